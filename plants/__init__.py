"""Plants, plant memberships, panel specs, the device registry and device datasheets."""
