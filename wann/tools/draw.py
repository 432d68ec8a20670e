"""Draw a champion's network with networkx + matplotlib (no graphviz needed).

``python -m wann.draw CHAMPION -o net.png`` (or ``.svg``). Inputs stand in a
column on the left with the task's labels (and "bias"), outputs on the right,
hidden nodes in columns by depth (longest path from the inputs), ordered to
keep edges short. Nodes are coloured and labelled by activation. Disabled
connections and parts on no input-to-output path are hidden unless ``--all``.
``--weights`` draws tuned connection weights as edge colour and width.

:func:`draw_champion` returns the figure and the networkx graph; every node
carries its drawing position as ``x``/``y`` (and ``pos``) attributes.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from wann.engine.activations import ACTIVATIONS
from wann.engine.champion import Champion, champion_task
from wann.engine.genome import NodeKind, longest_path_depths
from wann.engine.jsonio import write_json_atomic
from wann.engine.network import live_connections
from wann.errors import UserError

# One fixed colour per activation id, so figures of different champions agree.
ACT_COLORS = {
    1: "#bdbdbd",  # linear
    2: "#8c564b",  # step
    3: "#1f77b4",  # sin
    4: "#2ca02c",  # gaussian
    5: "#ff7f0e",  # tanh
    6: "#d62728",  # sigmoid
    7: "#9467bd",  # inverse
    8: "#e377c2",  # abs
    9: "#17becf",  # relu
    10: "#bcbd22",  # cos
}
ACT_SHORT = {1: "lin", 2: "step", 3: "sin", 4: "gau", 5: "tanh", 6: "sig", 7: "inv", 8: "abs", 9: "relu", 10: "cos"}
POSITIVE, NEGATIVE = "#c0392b", "#2c7bb6"  # edge colours of tuned weights by sign
FORMATS = (".png", ".svg", ".pdf")
_KIND_NAMES = {NodeKind.INPUT: "input", NodeKind.BIAS: "bias", NodeKind.HIDDEN: "hidden", NodeKind.OUTPUT: "output"}


def champion_graph(champion: Champion, show_all: bool = False) -> nx.DiGraph:
    """The champion as a networkx DiGraph with layout positions on every node.

    Node keys are genome node ids; attributes: ``kind``, ``activation``,
    ``label``, ``depth``, ``live``, ``x``, ``y``, ``pos``. Edge attributes:
    ``innovation``, ``enabled``, ``live`` and, with tuned weights, ``weight``.
    Without ``show_all`` the graph holds only what the compiled network
    evaluates: every input, the bias, the outputs, and live hidden nodes and
    connections.
    """
    genome = champion.genome
    task = champion_task(champion)
    live = live_connections(genome)
    g = nx.DiGraph(task=champion.task)
    ids = genome.node_id.tolist()
    kinds = genome.node_kind.tolist()
    acts = genome.node_act.tolist()
    live_nodes = set(genome.conn_src[live].tolist()) | set(genome.conn_dst[live].tolist())
    labels_in = list(task.input_labels) + ["bias"]
    labels_out = list(task.output_labels)
    n_in = n_out = 0
    for node, kind, act in zip(ids, kinds, acts):
        is_live = kind != NodeKind.HIDDEN or node in live_nodes
        if not (is_live or show_all):
            continue
        if kind in (NodeKind.INPUT, NodeKind.BIAS):
            label = labels_in[n_in] if n_in < len(labels_in) else f"in{n_in}"
            n_in += 1
        elif kind == NodeKind.OUTPUT:
            label = labels_out[n_out] if n_out < len(labels_out) else f"out{n_out}"
            n_out += 1
        else:
            label = ACT_SHORT.get(int(act), str(act))
        g.add_node(int(node), kind=_KIND_NAMES[NodeKind(kind)], activation=ACTIVATIONS.get(int(act), str(act)),
                   act_id=int(act), label=label, live=bool(is_live))
    weights = champion.conn_weights or {}
    for k, (innov, s, d, en) in enumerate(zip(genome.conn_innov.tolist(), genome.conn_src.tolist(),
                                              genome.conn_dst.tolist(), genome.conn_enabled.tolist())):
        if not (live[k] or show_all) or s not in g or d not in g:
            continue
        attrs: dict[str, Any] = {"innovation": int(innov), "enabled": bool(en), "live": bool(live[k])}
        if int(innov) in weights:
            attrs["weight"] = float(weights[int(innov)])
        g.add_edge(int(s), int(d), **attrs)
    _layout(g)
    return g


def _layout(g: nx.DiGraph) -> None:
    """Columns by depth (inputs 0, outputs last), rows ordered by the parents' mean height."""
    order = list(nx.topological_sort(g))
    depth = longest_path_depths(
        g.nodes, g.edges, sources=[n for n in g if g.nodes[n]["kind"] in ("input", "bias")],
        last=[n for n in g if g.nodes[n]["kind"] == "output"],
    )
    columns: dict[int, list[int]] = {}
    for n in order:
        columns.setdefault(depth[n], []).append(n)
    ycoord: dict[int, float] = {}
    tallest = max(len(c) for c in columns.values())
    for col in sorted(columns):
        nodes = columns[col]
        if col > 0 and any(g.nodes[n]["kind"] == "hidden" for n in nodes):
            def key(n: int) -> tuple[float, int]:
                ys = [ycoord[p] for p in g.predecessors(n) if p in ycoord]
                return (-float(np.mean(ys)) if ys else 0.0, n)

            nodes = sorted(nodes, key=key)
        else:
            nodes = sorted(nodes, key=lambda n: (g.nodes[n]["kind"] == "bias", n))
        count = len(nodes)
        spacing = 1.0 if col == 0 or count == 1 else max(1.0, (tallest - 1) / max(count - 1, 1) * 0.8)
        spacing = min(spacing, 1.5)
        for i, n in enumerate(nodes):
            ycoord[n] = (count - 1) / 2.0 * spacing - i * spacing
    for n in g:
        g.nodes[n]["depth"] = int(depth[n])
        g.nodes[n]["x"] = float(depth[n])
        g.nodes[n]["y"] = float(ycoord[n])
        g.nodes[n]["pos"] = (float(depth[n]), float(ycoord[n]))


def draw_champion(
    champion: Champion,
    show_all: bool = False,
    show_weights: bool = False,
    title: str | None = None,
) -> tuple[Figure, nx.DiGraph]:

    """Draw ``champion``; returns (figure, graph from :func:`champion_graph`).

    ``show_weights`` colours and sizes edges by the tuned ``conn_weights``
    (ValueError if the champion has none). Uses no pyplot state: the figure
    is independent of any GUI backend.
    """
    if show_weights and not champion.conn_weights:
        raise UserError("--weights: the champion has no tuned conn_weights (run python -m wann.tune --mode individual)")
    g = champion_graph(champion, show_all)
    pos = {n: g.nodes[n]["pos"] for n in g}
    n_cols = 1 + max(g.nodes[n]["depth"] for n in g)
    tallest = max(sum(1 for n in g if g.nodes[n]["depth"] == d) for d in range(n_cols))
    n_edges = g.number_of_edges()
    width = min(3.5 + 1.7 * n_cols, 26.0)
    height = min(2.5 + 0.55 * tallest, 22.0)
    fig = Figure(figsize=(width, height), dpi=100, layout="constrained")
    ax = fig.add_subplot()
    ax.set_axis_off()
    node_size = 520 if tallest <= 12 else max(140.0, 520 * 12 / tallest)
    font = 8 if tallest <= 20 else 6

    # edges: live ones solid; with --all, disabled dashed and dead dotted
    live_edges = [(u, v) for u, v, d in g.edges(data=True) if d["live"]]
    alpha = 0.85 if n_edges <= 40 else max(0.35, 0.85 * math.sqrt(40 / n_edges))
    base_width = 1.4 if n_edges <= 40 else max(0.5, 1.4 * math.sqrt(40 / n_edges))
    style = dict(ax=ax, arrows=True, arrowstyle="-|>", arrowsize=8, node_size=node_size,
                 connectionstyle="arc3,rad=0.08")
    if show_weights:
        w = np.array([g.edges[e].get("weight", 1.0) for e in live_edges])
        lim = max(float(np.max(np.abs(w))) if w.size else 1.0, 1e-9)
        colors = [POSITIVE if x >= 0 else NEGATIVE for x in w]
        nx.draw_networkx_edges(g, pos, edgelist=live_edges, edge_color=colors,
                               width=[0.5 + 3.5 * abs(x) / lim for x in w],
                               alpha=max(alpha, 0.75), **style)
    else:
        nx.draw_networkx_edges(g, pos, edgelist=live_edges, edge_color="#444444", width=base_width,
                               alpha=alpha, **style)
    if show_all:
        disabled = [(u, v) for u, v, d in g.edges(data=True) if not d["enabled"]]
        dead = [(u, v) for u, v, d in g.edges(data=True) if d["enabled"] and not d["live"]]
        for edges, ls in ((disabled, "dashed"), (dead, "dotted")):
            if edges:
                nx.draw_networkx_edges(g, pos, edgelist=edges, edge_color="#aaaaaa", width=0.8, style=ls, **style)

    # nodes: colour by activation; dead hidden nodes faded
    nodes = list(g)
    colors = [ACT_COLORS.get(g.nodes[n]["act_id"], "#777777") if g.nodes[n]["kind"] in ("hidden", "output")
              else "#ffffff" for n in nodes]
    edgecolors = ["#222222" if g.nodes[n]["live"] else "#bbbbbb" for n in nodes]
    nx.draw_networkx_nodes(g, pos, nodelist=nodes, node_color=colors, edgecolors=edgecolors,
                           linewidths=1.2, node_size=node_size, ax=ax)
    hidden_labels = {n: g.nodes[n]["label"] for n in g if g.nodes[n]["kind"] == "hidden"}
    if len(hidden_labels) <= 80:
        nx.draw_networkx_labels(g, pos, labels=hidden_labels, font_size=font - 1, ax=ax)
    last = n_cols - 1
    for n in g:
        kind = g.nodes[n]["kind"]
        x, y = pos[n]
        if kind in ("input", "bias"):
            ax.annotate(g.nodes[n]["label"], (x, y), xytext=(-14, 0), textcoords="offset points",
                        ha="right", va="center", fontsize=font + 1)
        elif kind == "output":
            ax.annotate(f"{g.nodes[n]['label']} ({ACT_SHORT.get(g.nodes[n]['act_id'])})", (x, y), xytext=(14, 0),
                        textcoords="offset points", ha="left", va="center", fontsize=font + 1)
    ax.set_xlim(-0.9, last + 0.9)
    ys = [pos[n][1] for n in g]
    ax.set_ylim(min(ys) - 0.8, max(ys) + 0.8)

    present = sorted({g.nodes[n]["act_id"] for n in g if g.nodes[n]["kind"] in ("hidden", "output")})
    handles = [Line2D([], [], marker="o", linestyle="", markersize=9, markerfacecolor=ACT_COLORS[a],
                      markeredgecolor="#222222", label=ACTIVATIONS[a]) for a in present]
    if show_weights:
        lim = max(abs(d.get("weight", 1.0)) for _, _, d in g.edges(data=True) if d["live"]) if live_edges else 1.0
        handles += [Line2D([], [], color=POSITIVE, linewidth=2.5, label="positive weight"),
                    Line2D([], [], color=NEGATIVE, linewidth=2.5, label="negative weight"),
                    Line2D([], [], color="#777777", linewidth=4.0, label=f"width ~ |weight| (max {lim:.2f})")]
    if show_all:
        handles += [Line2D([], [], color="#aaaaaa", linestyle="dashed", label="disabled"),
                    Line2D([], [], color="#aaaaaa", linestyle="dotted", label="dead (no input-output path)")]
    if handles:
        ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=min(len(handles), 6),
                  fontsize=font, frameon=False)
    n_live = len(live_edges)
    n_hidden = sum(1 for n in g if g.nodes[n]["kind"] == "hidden" and g.nodes[n]["live"])
    if title is None:
        title = f"{champion.task}: {n_live} connections, {n_hidden} hidden nodes, mean reward {champion.confirmed_mean:.1f}"
        tuned = champion.extra.get("tuned_weights")
        if show_weights and isinstance(tuned, dict) and "mean" in tuned:
            title += f"; tuned weights {float(tuned['mean']):.1f}"
    ax.set_title(title, fontsize=font + 3)
    return fig, g


def save_figure(fig: Figure, path: str | Path, dpi: int = 110) -> Path:
    """Save ``fig`` as PNG, SVG or PDF by the file extension; ValueError otherwise."""
    path = Path(path)
    if path.suffix.lower() not in FORMATS:
        raise UserError(f"{path}: unknown image type {path.suffix!r}; allowed: {', '.join(FORMATS)}")
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi)
    return path


def _export_graph(g: nx.DiGraph) -> nx.DiGraph:
    """A copy with only scalar attributes (GraphML cannot hold tuples)."""
    h = g.copy()
    for n in h:
        h.nodes[n].pop("pos", None)
    return h


def write_graphml(g: nx.DiGraph, path: str | Path) -> None:
    """Write the graph (positions as ``x``/``y``) as GraphML."""
    nx.write_graphml(_export_graph(g), str(path))


def write_json_graph(g: nx.DiGraph, path: str | Path) -> None:
    """Write the graph as node-link JSON (networkx ``node_link_data``)."""
    write_json_atomic(path, nx.node_link_data(_export_graph(g), edges="edges"))
