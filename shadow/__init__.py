"""Shadow analysis (issue 19): row-to-row and obstacle shading on the plant's digital twin, run
as jobs, with per-panel loss maps and the energy lost in kWh."""
