"""Export dbt models to Braze's REST API (Treasure Data's Braze export modes).

Entry points: ``braze_currents.exporter.cli.main(argv) -> int`` (what
``scripts/export_to_braze.py`` runs), ``braze_currents.exporter.export.run_export(settings)``
and ``braze_currents.exporter.bench.run_bench`` / ``run_for_report`` (``make bench``).
The modules, in the order a row meets them: settings, modes, source (manifest, DuckDB
stream), certify (SQL validation and rendering), payload and validation (the Python path),
prepare, batching, ratelimit, client, sender, ledger, report, progress, export, cli.
"""
