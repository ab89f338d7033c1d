"""dbt-project-evaluator's rules (modeling, testing, documentation, structure, governance),
checked on the manifest of a build: the hub is unreachable, so the project checks what matters
itself. Each exception is documented beside its model (or source) with its reason."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

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


# ---- The rest of dbt-project-evaluator's rules ------------------------------------------------
# An exception is documented beside its model or source, with its reason, in
# `meta: {evaluator_exceptions: {<rule>: <reason>}}` (for a whole folder: dbt_project.yml).
FANOUT_LEAVES = 3  # the evaluator's default thresholds
TOO_MANY_PARENTS = 7
CHAINED_VIEWS = 4


def excepted(node: dict, rule: str) -> bool:
    meta = {**(node.get("meta") or {}), **((node.get("config") or {}).get("meta") or {})}
    reason = (meta.get("evaluator_exceptions") or {}).get(rule)
    assert reason is None or len(reason.strip()) > 20, (node["unique_id"], rule)
    return reason is not None


def children(manifest) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for key, node in [*manifest["nodes"].items(), *manifest["exposures"].items()]:
        for parent in (node.get("depends_on") or {}).get("nodes", []):
            out.setdefault(parent, set()).add(key)
    return out


def test_every_model_has_a_parent(manifest):
    """Root models: a model reads a source or another model through source() or ref()."""
    roots = [k for k, v in models(manifest).items() if not v["depends_on"]["nodes"]]
    assert not [k for k in roots if not excepted(models(manifest)[k], "root_models")]


def test_models_name_relations_through_ref_and_source_only(manifest):
    """Hard-coded references: no `from schema.table` in a model's own SQL."""
    for key, model in models(manifest).items():
        code = re.sub(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", " ", model["raw_code"], flags=re.S)
        code = re.sub(r"--[^\n]*", " ", code)
        hits = re.findall(r"(?<!distinct )\b(?:from|join)\s+(\"?\w+\"?\.\"?\w+)", code, re.I)
        assert not hits or excepted(model, "hard_coded_references"), (key, hits)


def test_model_fanout_and_parents_stay_small(manifest):
    """Model fanout (at most 3 leaf children) and too many joins (fewer than 7 parents)."""
    nodes, below = models(manifest), children(manifest)
    for key, model in nodes.items():
        leaves = [
            c
            for c in below.get(key, ())
            if c in nodes
            and not [g for g in below.get(c, ()) if g in nodes or g.startswith("exposure.")]
        ]
        assert len(leaves) <= FANOUT_LEAVES or excepted(model, "model_fanout"), key
        parents = set(model["depends_on"]["nodes"])
        assert len(parents) < TOO_MANY_PARENTS or excepted(model, "too_many_joins"), key


def test_sources_feed_one_model_and_are_fresh(manifest):
    """Source fanout (one staging model per source table) and missing source freshness."""
    nodes, below = models(manifest), children(manifest)
    for key, source in manifest["sources"].items():
        readers = [c for c in below.get(key, ()) if c in nodes]
        assert len(readers) <= 1 or excepted(source, "source_fanout"), (key, readers)
        freshness = source.get("freshness") or {}
        fresh = any((freshness.get(k) or {}).get("count") for k in ("warn_after", "error_after"))
        assert fresh or excepted(source, "missing_source_freshness"), key


def test_staging_models_read_sources_not_other_staging_models(manifest):
    for key, model in models(manifest).items():
        if model["original_file_path"].startswith("models/staging/"):
            staged = [p for p in model["depends_on"]["nodes"] if p.startswith("model.")]
            assert not staged or excepted(model, "staging_dependent_on_staging"), key
    typed = [m for m in models(manifest).values() if "/event_types/" in m["original_file_path"]]
    assert len(typed) == 102  # the folder's exception reaches every typed model


def test_views_chain_shallow_and_exposures_read_tables(manifest):
    """Chained views dependencies (at most 4 views or ephemerals in a row) and exposure
    parents' materializations (tables)."""
    nodes = models(manifest)

    def depth(key: str) -> int:
        node = nodes.get(key)
        if node is None or node["config"]["materialized"] in ("table", "incremental"):
            return 0
        return 1 + max((depth(p) for p in node["depends_on"]["nodes"]), default=0)

    assert max(depth(k) for k in nodes) <= CHAINED_VIEWS
    for exposure in manifest["exposures"].values():
        for parent in exposure["depends_on"]["nodes"]:
            node = nodes[parent]
            table = node["config"]["materialized"] in ("table", "incremental")
            assert table or excepted(node, "exposure_parents_materializations"), parent


def test_every_model_is_tested_and_documented_beside_itself(manifest):
    """Test coverage (every model has a data or unit test), model and source directories
    (each model's yml beside it, sources in models/staging/<source>/)."""
    tested = set()
    for node in [*manifest["nodes"].values(), *manifest["unit_tests"].values()]:
        if node["resource_type"] in ("test", "unit_test"):
            tested.update(node["depends_on"]["nodes"])
    for key, model in models(manifest).items():
        assert key in tested or excepted(model, "test_coverage"), key
        patch = (model.get("patch_path") or "").split("://")[-1]
        assert Path(patch).parent == Path(model["original_file_path"]).parent, key
    for key, source in manifest["sources"].items():
        path = Path(source["original_file_path"])
        assert path.parent == Path("models/staging", source["source_name"]), key


def test_exceptions_name_known_rules():
    """An exception names a rule this file checks (a typo would hide a violation)."""
    rules = {
        "root_models", "hard_coded_references", "model_fanout", "too_many_joins",
        "source_fanout", "missing_source_freshness", "staging_dependent_on_staging",
        "exposure_parents_materializations", "test_coverage",
    }  # fmt: skip
    root = Path(__file__).resolve().parents[2]
    found: set[str] = set()

    def collect(value) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                if key == "evaluator_exceptions":
                    found.update(item)
                else:
                    collect(item)
        elif isinstance(value, list):
            for item in value:
                collect(item)

    for path in [root / "dbt_project.yml", *root.glob("models/**/*.yml")]:
        collect(yaml.safe_load(path.read_text()))
    assert found and found <= rules, found - rules
