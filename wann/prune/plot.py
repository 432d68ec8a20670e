"""The plot: test accuracy versus effective connections, pruned dense nets and WANN champions together."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

from wann.prune.bridge import ChampionPoint


def plot_accuracy_vs_connections(rows: Sequence[dict[str, Any]], champions: Sequence[ChampionPoint],
                                 path: str | Path, title: str = "") -> Path:
    """Write ``accuracy_vs_connections.png``: a line per method (solid: trained, dashed: shared-weight mean).

    x is effective connections on a log axis; collapsed rows (0 connections)
    cannot be drawn there and are listed in the legend instead. The dense
    baseline is a star; each WANN champion is a pair of markers at its
    connection count: filled for its tuned accuracy (when the file has one),
    hollow for its shared-weight mean accuracy.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    fig, ax = plt.subplots(figsize=(12, 6.5), dpi=110)
    methods: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        methods.setdefault(row["method"], []).append(row)
    colors = [plt.get_cmap("tab20")(i) for i in range(0, 20, 2)] + [plt.get_cmap("tab20")(i) for i in range(1, 20, 2)]
    k = 0
    for name, group in methods.items():
        if name == "dense":
            r = group[0]
            ax.plot([r["effective_connections"]], [r["test_accuracy"]], marker="*", markersize=14,
                    color="black", linestyle="none", label=f"dense ({r['effective_connections']} conn.)")
            ax.plot([r["effective_connections"]], [r["shared_accuracy_mean"]], marker="*", markersize=12,
                    markerfacecolor="none", color="black", linestyle="none")
            continue
        color = colors[k % len(colors)]
        k += 1
        drawn = sorted((r for r in group if r["effective_connections"] > 0), key=lambda r: r["effective_connections"])
        n_collapsed = sum(1 for r in group if r["effective_connections"] == 0)
        label = name + (f" ({n_collapsed} collapsed, not drawn)" if n_collapsed else "")
        xs = [r["effective_connections"] for r in drawn]
        ax.plot(xs, [r["test_accuracy"] for r in drawn], marker="o", color=color, label=label)
        ax.plot(xs, [r["shared_accuracy_mean"] for r in drawn], marker=".", linestyle="--", color=color, alpha=0.6)
    champion_colors = ("crimson", "black", "darkgreen", "navy", "darkorange", "purple")
    for i, champ in enumerate(champions):
        color = champion_colors[i % len(champion_colors)]
        x = max(champ.connections, 1)
        if champ.accuracy_tuned is not None:
            ax.plot([x], [champ.accuracy_tuned], marker="D", markersize=9, color=color, linestyle="none",
                    label=f"{champ.label}: tuned")
            ax.plot([x, x], [champ.accuracy_mean, champ.accuracy_tuned], color=color, linewidth=0.8)
        ax.plot([x], [champ.accuracy_mean], marker="D", markersize=9, markerfacecolor="none", color=color,
                linestyle="none", label=f"{champ.label}: shared-weight mean")
    ax.plot([], [], color="gray", label="solid: trained accuracy")
    ax.plot([], [], color="gray", linestyle="--", label="dashed: shared-weight mean accuracy")
    ax.set_xscale("log")
    ax.set_xlabel("effective connections (surviving weights on an input-to-output path)")
    ax.set_ylabel("test accuracy")
    ax.set_ylim(0.0, 1.02)
    ax.grid(True, which="both", alpha=0.3)
    ax.set_title(title or "accuracy versus connections")
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path
