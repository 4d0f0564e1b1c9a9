"""scripts/workflow_to_api.py on small hand-made graphs (no server needed)."""
import pytest

from workflow_to_api import ConversionError, ui_to_api

OBJECT_INFO = {
    "Loader": {"input": {"required": {"name": [["a.safetensors", "b.safetensors"], {}]}},
               "input_order": {"required": ["name"]}, "output": ["MODEL"]},
    "Patch": {"input": {"required": {"model": ["MODEL", {}], "strength": ["FLOAT", {"default": 1.0}],
                                      "mode": ["COMBO", {"options": ["x", "y"]}]},
                        "optional": {"flag": ["BOOLEAN", {"default": False}]}},
              "input_order": {"required": ["model", "strength", "mode"], "optional": ["flag"]},
              "output": ["MODEL"]},
    "Sampler": {"input": {"required": {"model": ["MODEL", {}],
                                       "seed": ["INT", {"control_after_generate": True}],
                                       "steps": ["INT", {}], "text": ["STRING", {"forceInput": True}]}},
                "input_order": {"required": ["model", "seed", "steps", "text"]}, "output": ["LATENT"]},
    "Text": {"input": {"required": {"value": ["STRING", {}]}}, "input_order": {"required": ["value"]},
             "output": ["STRING"]},
}


def node(nid, ntype, widgets, inputs=(), mode=0):
    return {"id": nid, "type": ntype, "mode": mode, "widgets_values": widgets,
            "inputs": [{"name": n, "type": t, "link": l, **({"widget": {"name": n}} if w else {})}
                       for n, t, l, w in inputs]}


def graph(nodes, links):
    return {"version": 0.4, "nodes": nodes, "links": links}


def base_nodes(patch_mode=0, steps_link=None):
    return [
        node(1, "Loader", ["b.safetensors"]),
        node(2, "Patch", [0.5, "y", True], [("model", "MODEL", 1, False),
                                            ("strength", "FLOAT", None, True)], mode=patch_mode),
        node(3, "Sampler", [123, "randomize", 20],
             [("model", "MODEL", 2, False), ("text", "STRING", 3, False),
              ("steps", "INT", steps_link, True)]),
        node(4, "Text", ["hello"]),
        node(5, "MarkdownNote", ["# notes"]),
    ]


LINKS = [[1, 1, 0, 2, 0, "MODEL"], [2, 2, 0, 3, 0, "MODEL"], [3, 4, 0, 3, 1, "STRING"]]


def test_widgets_positional_with_control_after_generate():
    api = ui_to_api(graph(base_nodes(), LINKS), OBJECT_INFO)
    assert set(api) == {"1", "2", "3", "4"}  # the note is dropped
    assert api["1"]["inputs"] == {"name": "b.safetensors"}
    assert api["2"]["inputs"] == {"model": ["1", 0], "strength": 0.5, "mode": "y", "flag": True}
    # "randomize" after the seed is frontend-only; text is a forceInput socket, not a widget
    assert api["3"]["inputs"] == {"model": ["2", 0], "seed": 123, "steps": 20, "text": ["4", 0]}


def test_linked_widget_takes_the_link():
    nodes = base_nodes(steps_link=4)
    links = LINKS + [[4, 1, 0, 3, 2, "INT"]]
    api = ui_to_api(graph(nodes, links), OBJECT_INFO)
    assert api["3"]["inputs"]["steps"] == ["1", 0]


def test_bypassed_node_passes_its_input_through():
    api = ui_to_api(graph(base_nodes(patch_mode=4), LINKS), OBJECT_INFO)
    assert "2" not in api
    assert api["3"]["inputs"]["model"] == ["1", 0]


def test_reroute_is_resolved():
    nodes = base_nodes()
    nodes.append({"id": 7, "type": "Reroute", "mode": 0, "inputs": [{"name": "", "type": "*", "link": 5}]})
    links = [[1, 1, 0, 2, 0, "MODEL"], [5, 2, 0, 7, 0, "MODEL"], [2, 7, 0, 3, 0, "MODEL"],
             [3, 4, 0, 3, 1, "STRING"]]
    api = ui_to_api(graph(nodes, links), OBJECT_INFO)
    assert "7" not in api and api["3"]["inputs"]["model"] == ["2", 0]


def test_wrong_widget_count_is_an_error():
    nodes = base_nodes()
    nodes[2]["widgets_values"] = [123, 20]  # control_after_generate value missing
    with pytest.raises(ConversionError, match="too few"):
        ui_to_api(graph(nodes, LINKS), OBJECT_INFO)
    nodes[2]["widgets_values"] = [123, "fixed", 20, "extra"]
    with pytest.raises(ConversionError, match="left over"):
        ui_to_api(graph(nodes, LINKS), OBJECT_INFO)


def test_workflow_saved_before_an_optional_input_existed_gets_its_default():
    """A node that gained an optional widget input after the workflow was saved (fewer widgets_values):
    the input takes its default, as in the frontend; a missing required widget is still an error."""
    nodes = base_nodes()
    nodes[1]["widgets_values"] = [0.5, "y"]          # saved before "flag" existed
    api = ui_to_api(graph(nodes, LINKS), OBJECT_INFO)
    assert api["2"]["inputs"] == {"model": ["1", 0], "strength": 0.5, "mode": "y", "flag": False}
    nodes[1]["widgets_values"] = [0.5]
    with pytest.raises(ConversionError, match="too few for widget 'mode'"):
        ui_to_api(graph(nodes, LINKS), OBJECT_INFO)


def test_unknown_node_type_is_an_error():
    nodes = base_nodes() + [node(9, "NoSuchNode", [])]
    with pytest.raises(ConversionError, match="NoSuchNode"):
        ui_to_api(graph(nodes, LINKS), OBJECT_INFO)
