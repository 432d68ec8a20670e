"""Command line of ``python -m wann.draw`` (the work is done by :mod:`wann.tools.draw`)."""
from __future__ import annotations

import argparse
from pathlib import Path

from wann.cli.common import add_task_module_option, check_positive, import_task_modules, output_path_for, run_command
from wann.engine.champion import load_champion
from wann.errors import UserError
from wann.tools.draw import FORMATS, draw_champion, save_figure, write_graphml, write_json_graph


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``python -m wann.draw``."""
    parser = argparse.ArgumentParser(prog="python -m wann.draw", description="Draw a champion's network.")
    parser.add_argument("champion", help="champion.json")
    parser.add_argument("-o", "--out", help="image file, .png or .svg (default: <name>.png next to the champion)")
    parser.add_argument("--all", dest="show_all", action="store_true",
                        help="also draw disabled connections and dead nodes/connections")
    parser.add_argument("--weights", action="store_true", help="edge colour and width from the tuned conn_weights")
    parser.add_argument("--graphml", metavar="PATH", help="also write the graph as GraphML")
    parser.add_argument("--json-graph", metavar="PATH", help="also write the graph as node-link JSON")
    parser.add_argument("--dpi", type=int, default=110, help="PNG resolution (default 110)")
    parser.add_argument("--title", help="figure title (default: task, size and reward)")
    add_task_module_option(parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m wann.draw``; exit 2 with one line on bad input."""
    return run_command(build_parser(), _run, argv)


def _run(args: argparse.Namespace) -> int:
    check_positive("--dpi", args.dpi)
    out = Path(args.out) if args.out else output_path_for(args.champion, ".png")
    if out.suffix.lower() not in FORMATS:
        raise UserError(f"{out}: unknown image type {out.suffix!r}; allowed: {', '.join(FORMATS)}")
    import_task_modules(args.task_modules)
    champion = load_champion(args.champion)
    if args.weights and not champion.conn_weights:
        raise UserError(f"{args.champion}: --weights: the champion has no tuned conn_weights "
                         "(run python -m wann.tune --mode individual)")
    fig, g = draw_champion(champion, show_all=args.show_all, show_weights=args.weights, title=args.title)
    save_figure(fig, out, args.dpi)
    n_hidden = sum(1 for n in g if g.nodes[n]["kind"] == "hidden")
    print(f"drew {g.number_of_nodes()} nodes ({n_hidden} hidden), {g.number_of_edges()} connections -> {out}")
    if args.graphml:
        write_graphml(g, args.graphml)
        print(f"wrote {args.graphml}")
    if args.json_graph:
        write_json_graph(g, args.json_graph)
        print(f"wrote {args.json_graph}")
    return 0
