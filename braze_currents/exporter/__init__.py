"""Export dbt models to Braze's REST API (Treasure Data's Braze export modes).

Entry points: ``braze_currents.exporter.cli.main(argv) -> int`` (what
``scripts/export_to_braze.py`` runs) and ``braze_currents.exporter.export.run_export(settings)``.
Its development tools (the Braze emulator, the sandbox warehouse, the throughput bench) live
in ``braze_currents.devtools``.
The modules, in the order a row meets them: settings, modes, source (manifest, DuckDB
stream), certify (SQL validation and rendering), payload and validation (the Python path),
prepare, batching, ratelimit, client, sender, ledger, report, progress, export, cli.
"""
