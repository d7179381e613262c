"""Export Zachary's karate club as networkx builds it, for convkit's embedded copy.

Writes, under crates/convkit-data/tests/data/graph/ (of --out-root, default the repository):

- `karate_edges.txt`: the 78 undirected edges of `networkx.karate_club_graph()`, one
  `u v` line each (zero-based node ids, networkx's edge order), after `#` comment lines;
- `karate_clubs.tsv`: `node<TAB>club` for the 34 nodes, the `club` node attribute
  (`Mr. Hi` or `Officer`: the faction each member joined after the split).

`convkit_data::graph::karate` embeds the same data; its tests compare against these files.
Only networkx is needed (pinned in requirements.txt), not torch:

    target/refgen-venv/bin/python tools/refgen/karate.py
"""

from __future__ import annotations

import argparse
from pathlib import Path

import networkx as nx

REPO_ROOT = Path(__file__).resolve().parent.parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out-root", type=Path, default=REPO_ROOT)
    out = parser.parse_args().out_root / "crates/convkit-data/tests/data/graph"
    out.mkdir(parents=True, exist_ok=True)

    g = nx.karate_club_graph()
    assert g.number_of_nodes() == 34 and g.number_of_edges() == 78

    with open(out / "karate_edges.txt", "w", encoding="utf-8", newline="\n") as f:
        f.write(f"# networkx {nx.__version__} karate_club_graph(): 34 nodes, 78 edges\n")
        f.write("# written by tools/refgen/karate.py\n")
        for u, v in g.edges():
            f.write(f"{u} {v}\n")

    with open(out / "karate_clubs.tsv", "w", encoding="utf-8", newline="\n") as f:
        for node in sorted(g.nodes()):
            f.write(f"{node}\t{g.nodes[node]['club']}\n")


if __name__ == "__main__":
    main()
