"""dbt-project-evaluator's rules (modeling, testing, documentation, structure, governance),
checked on the manifest of a build: the hub is unreachable, so the project checks what matters
itself. Each exception is documented beside its model (or source) with its reason."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytestmark = pytest.mark.dbt

PREFIXES = {  # folder -> allowed model name prefixes
    "models/staging/": ("stg_",),
    "models/intermediate/": ("int_",),
    # agg_: aggregates (the project's marts of a day, a lifetime or a user), beside fct_/dim_.
    "models/marts/": ("fct_", "dim_", "agg_"),
    "models/exports/": ("export_",),
}
# Named as MetricFlow expects: documented in models/marts/_marts__semantic_models.yml.
NAMING_EXCEPTIONS = {"metricflow_time_spine"}
PRIMARY_KEY_TESTS = {
    "unique",
    "unique_combination_of_columns",
    "braze_currents__unique_in_scope",
    "braze_currents__primary_key",
}


@pytest.fixture(scope="module")
def manifest(built_warehouse) -> dict:
    return json.loads(Path(built_warehouse.target, "manifest.json").read_text())


def models(manifest) -> dict[str, dict]:
    return {k: v for k, v in manifest["nodes"].items() if v["resource_type"] == "model"}


def test_every_model_and_source_is_documented(manifest):
    assert not [k for k, v in models(manifest).items() if not v["description"].strip()]
    assert not [k for k, v in manifest["sources"].items() if not v["description"].strip()]


def test_every_model_has_a_primary_key_test(manifest):
    tested = set()
    for node in manifest["nodes"].values():
        if node["resource_type"] == "test":
            name = (node.get("test_metadata") or {}).get("name")
            if name in PRIMARY_KEY_TESTS:
                tested.update(node["depends_on"]["nodes"])
    missing = [
        k
        for k, v in models(manifest).items()
        if k not in tested and v["config"]["materialized"] != "ephemeral"
    ]
    assert not missing


def test_sources_are_read_by_staging_only_and_staging_reads_nothing_downstream(manifest):
    for key, model in models(manifest).items():
        parents = model["depends_on"]["nodes"]
        if model["original_file_path"].startswith("models/staging/"):
            assert all(p.startswith("source.") or ".stg_" in p for p in parents), key
        else:
            assert not [p for p in parents if p.startswith("source.")], key


def test_every_source_table_is_used_or_says_why_not(manifest):
    used = {p for m in models(manifest).values() for p in m["depends_on"]["nodes"]}
    for key, source in manifest["sources"].items():
        if key not in used:
            assert source["meta"].get("not_read_by_models_because"), key


def test_models_are_named_after_their_folder(manifest):
    for key, model in models(manifest).items():
        if model["name"] in NAMING_EXCEPTIONS:
            continue
        [prefixes] = [p for d, p in PREFIXES.items() if model["original_file_path"].startswith(d)]
        assert model["name"].startswith(prefixes), key


def test_public_models_have_contracts_and_exposures_read_public_models(manifest):
    nodes = models(manifest)
    public = [v for v in nodes.values() if v.get("access") == "public"]
    assert public
    for model in public:
        assert model["contract"]["enforced"] and model["description"], model["name"]
        assert all(c["description"] and c["data_type"] for c in model["columns"].values())
    for exposure in manifest["exposures"].values():
        for parent in exposure["depends_on"]["nodes"]:
            assert nodes[parent].get("access") == "public", exposure["name"]


def test_semantic_layer_defines_ratio_metrics_over_sums(manifest):
    metrics = {m["name"]: m for m in manifest["metrics"].values()}
    assert {"sends", "unique_opens", "open_rate", "revenue", "purchases"} <= set(metrics)
    assert metrics["open_rate"]["type"] == "ratio"
    semantic = {s["name"] for s in manifest["semantic_models"].values()}
    assert semantic == {"message_sends", "purchases"}
