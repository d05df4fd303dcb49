"""KPI engine, report jobs (PDF/CSV/XLSX), schedules and analysis endpoints."""
