"""Export dbt models to Braze's REST API (Treasure Data's Braze export modes).

Entry points: ``braze_currents.exporter.cli.main(argv) -> int`` (what
``scripts/export_to_braze.py`` runs) and ``braze_currents.exporter.export.run_export``.
"""
