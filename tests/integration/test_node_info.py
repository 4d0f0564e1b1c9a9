"""/object_info: the node as the UI and saved workflows see it."""

NODE = "SVGSparseAttention"

# name, type, default, min, max, step (None: not checked / not applicable)
EXPECTED_INPUTS = [
    ("model", "MODEL", None, None, None, None),
    ("sparsity", "FLOAT", 0.75, 0.0, 0.95, 0.01),
    ("dense_warmup", "FLOAT", 0.2, 0.0, 1.0, 0.01),
    ("dense_blocks", "INT", 1, 0, 128, None),
    ("sampled_rows", "INT", 64, 8, 1024, 8),
    ("backend", "COMBO", "auto", None, None, None),
    ("profile_seed", "INT", 0, 0, 2**31 - 1, None),
    ("verbose", "BOOLEAN", False, None, None, None),
]
# added later: optional, so that workflows and API prompts saved before them load and run unchanged
EXPECTED_OPTIONAL = [
    ("attention_precision", "COMBO", "auto", None, None, None),
    ("fp8_dense_steps", "BOOLEAN", False, None, None, None),
    ("pattern", "COMBO", "svg", None, None, None),
    ("svg2_top_p", "FLOAT", 0.0, 0.0, 1.0, 0.01),
    ("svg2_query_clusters", "INT", 0, 0, 4096, None),
    ("svg2_key_clusters", "INT", 0, 0, 4096, None),
    ("svg2_warm_iterations", "INT", 1, 1, 20, None),
]
COMBOS = {"backend": ["auto", "triton", "reference"], "attention_precision": ["auto", "bf16", "fp8", "fp8-pv"],
          "pattern": ["svg", "svg2"]}


def test_node_is_listed_with_its_inputs(comfy_server):
    info = comfy_server.object_info(NODE)
    assert info["name"] == NODE
    assert info["display_name"] == "SVG Sparse Attention"
    assert info["category"] == "model/patches"
    assert info["output"] == ["MODEL"]
    assert info.get("description")
    assert info["input_order"]["required"] == [e[0] for e in EXPECTED_INPUTS]
    assert info["input_order"]["optional"] == [e[0] for e in EXPECTED_OPTIONAL]
    specs = {**info["input"]["required"], **info["input"]["optional"]}
    for name, typ, default, lo, hi, step in EXPECTED_INPUTS + EXPECTED_OPTIONAL:
        spec = specs[name]
        opts = spec[1] if len(spec) > 1 else {}
        if typ == "COMBO":
            choices = spec[0] if isinstance(spec[0], list) else opts.get("options")
            assert choices == COMBOS[name], name
        else:
            assert spec[0] == typ, name
        assert opts.get("tooltip"), f"{name} has no tooltip"
        if default is not None or typ == "BOOLEAN":
            assert opts.get("default") == default, name
        if lo is not None:
            assert opts.get("min") == lo and opts.get("max") == hi, name
        if step is not None:
            assert abs(opts.get("step") - step) < 1e-9, name
        # a seed-like widget would add a control_after_generate value to saved workflows
        assert not opts.get("control_after_generate"), name


def test_node_is_in_full_object_info(object_info):
    assert NODE in object_info
    # the test doubles are loaded too (and clearly labelled as such)
    for double in ("SVGTestCLIPLoader", "SVGTestVAELoader", "SVGTestCLIPVisionLoader"):
        assert "TEST DOUBLE" in object_info[double]["description"]
