#!/usr/bin/env python3
"""How each cost grows with the number of profiles, from bench/all.sh's results.

    bench/growth.py [--results target/bench/results] [--svg bench/growth.svg]

Reads import.tsv, search.tsv, match.tsv and web.jsonl (every-search-computed runs) from the
results directory, prints a Markdown table (each cost at each size, its growth factor per
10x profiles between consecutive sizes, and the exponent b of cost ~ profiles^b fitted over
all sizes: 1 is linear, below 1 sub-linear) and writes it to growth.md there, and draws an
SVG plot: log-log axes, one line per cost normalised to its value at the smallest size, and
a dashed line for linear growth. Costs with fewer than two sizes measured are left out.

Python 3 standard library only; the SVG is written by hand.
"""

import argparse
import csv
import json
import math
import os
import sys

# (name, unit, scale to the unit, source file, how to read a value from a row)
COSTS = [
    ("import time", "s", 1, "import.tsv", lambda r: r["import_seconds"]),
    ("import peak RSS", "MB", 1 / 1024, "import.tsv", lambda r: r["peak_rss_kb"]),
    ("snapshot size", "MB", 1 / 2**20, "import.tsv", lambda r: r["snapshot_bytes"]),
    ("search median", "ms", 1, "search.tsv", lambda r: r["median_ms"]),
    ("search p99", "ms", 1, "search.tsv", lambda r: r["p99_ms"]),
    ("matching median", "ms", 1, "match.tsv", lambda r: r["median_ms"]),
    ("web /search median (handler, 1 connection)", "ms", 1, "web.jsonl",
     lambda r: r["one_connection"]["/search (HTML)"].get("server_p50_ms")),
    ("web RSS after load", "MB", 1, "web.jsonl", lambda r: r["memory_mb"]["after_load"]),
]

COLOURS = ["#36c", "#d33", "#14866d", "#ac6600", "#6b4ba1", "#72777d", "#b32424", "#2a4b8d"]


def read_rows(path):
    """Rows of a TSV file (dicts) or of a JSON lines file; [] when it does not exist."""
    if not os.path.exists(path):
        return []
    with open(path) as f:
        if path.endswith(".jsonl"):
            rows = [json.loads(line) for line in f if line.strip()]
            # The web tool's cost: every search computed, the same cycled mix at each size.
            return [r for r in rows if r.get("search_cache") == 0 and r.get("mix") == "cycle"]
        return list(csv.DictReader(f, delimiter="\t"))


def series(results):
    """[(name, unit, {profiles: value})] for every cost measured at two sizes or more."""
    out = []
    for name, unit, scale, file, get in COSTS:
        values = {}
        for row in read_rows(os.path.join(results, file)):
            try:
                value = get(row)
                if value not in (None, "", "-"):
                    values[int(row["profiles"])] = float(value) * scale
            except (KeyError, ValueError):
                continue
        values = {n: v for n, v in values.items() if v > 0}
        if len(values) >= 2:
            out.append((name, unit, values))
    return out


def exponent(values):
    """b of value ~ profiles^b, least squares over log-log points."""
    xs = [math.log10(n) for n in values]
    ys = [math.log10(v) for v in values.values()]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx


def shape(b):
    if b < 0.85:
        return "sub-linear"
    if b <= 1.15:
        return "linear"
    return "super-linear"


def fmt(v, unit):
    digits = 2 if v < 10 else 1 if v < 100 else 0
    return f"{v:,.{digits}f} {unit}"


def table(costs):
    sizes = sorted({n for _, _, values in costs for n in values})
    pairs = list(zip(sizes, sizes[1:]))
    head = ["cost"] + [f"{n:,}" for n in sizes]
    head += [f"per 10× ({a:,}→{b:,})" for a, b in pairs] + ["exponent b (cost ∝ N^b)"]
    lines = ["| " + " | ".join(head) + " |", "|---" + "|---:" * (len(head) - 1) + "|"]
    for name, unit, values in costs:
        cells = [name] + [fmt(values[n], unit) if n in values else "–" for n in sizes]
        for a, b in pairs:
            if a in values and b in values:
                cells.append(f"×{(values[b] / values[a]) ** (1 / math.log10(b / a)):.1f}")
            else:
                cells.append("–")
        b = exponent(values)
        cells.append(f"{b:.2f} ({shape(b)})")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def esc(text):
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def svg(costs):
    width, height = 760, 440
    left, right, top, bottom = 70, 300, 40, 60
    plot_w, plot_h = width - left - right, height - top - bottom
    sizes = sorted({n for _, _, values in costs for n in values})
    x0, x1 = math.log10(sizes[0]), math.log10(sizes[-1])
    if x1 - x0 < 1e-9:
        x1 = x0 + 1
    # Each cost relative to its value at its smallest size; linear growth is N / N0.
    lines = []
    for name, unit, values in costs:
        first = min(values)
        lines.append((name, [(n, values[n] / values[first]) for n in sorted(values)]))
    linear = [(n, n / sizes[0]) for n in (sizes[0], sizes[-1])]
    ratios = [r for _, pts in lines for _, r in pts] + [r for _, r in linear]
    y0 = math.floor(math.log10(min(ratios)))
    y1 = math.ceil(math.log10(max(ratios)))
    if y1 == y0:
        y1 = y0 + 1

    def px(n):
        return left + (math.log10(n) - x0) / (x1 - x0) * plot_w

    def py(r):
        return top + plot_h - (math.log10(r) - y0) / (y1 - y0) * plot_h

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
           '<title>How each cost grows with the number of profiles</title>',
           f'<rect width="{width}" height="{height}" fill="#fff"/>',
           f'<text x="{left}" y="22" font-size="14" font-weight="bold">'
           f'Each cost relative to its value at {sizes[0]:,} profiles (log-log)</text>']
    # Grid and ticks: the sizes measured; powers of ten (and 2 and 5 times them when the
    # range is short) up the side.
    for n in sizes:
        x = px(n)
        out.append(f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{top + plot_h}" stroke="#eaecf0"/>')
        out.append(f'<text x="{x:.1f}" y="{top + plot_h + 18}" text-anchor="middle">{n:,}</text>')
    steps = (1, 2, 5) if y1 - y0 <= 2 else (1,)
    for e in range(y0, y1 + 1):
        for m in steps:
            r = m * 10 ** e
            if r > 10 ** y1:
                break
            y = py(r)
            out.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" stroke="#eaecf0"/>')
            out.append(f'<text x="{left - 8}" y="{y + 4:.1f}" text-anchor="end">{r:g}×</text>')
    out.append(f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" fill="none" stroke="#a2a9b1"/>')
    out.append(f'<text x="{left + plot_w / 2:.1f}" y="{height - 18}" text-anchor="middle">profiles</text>')
    # The linear reference.
    (a, ra), (b, rb) = linear
    out.append(f'<line x1="{px(a):.1f}" y1="{py(ra):.1f}" x2="{px(b):.1f}" y2="{py(rb):.1f}" '
               'stroke="#000" stroke-width="1.5" stroke-dasharray="6 4"/>')
    legend_x, legend_y = left + plot_w + 20, top + 10
    out.append(f'<line x1="{legend_x}" y1="{legend_y}" x2="{legend_x + 24}" y2="{legend_y}" '
               'stroke="#000" stroke-width="1.5" stroke-dasharray="6 4"/>')
    out.append(f'<text x="{legend_x + 30}" y="{legend_y + 4}">linear (∝ profiles)</text>')
    for i, (name, pts) in enumerate(lines):
        colour = COLOURS[i % len(COLOURS)]
        points = " ".join(f"{px(n):.1f},{py(r):.1f}" for n, r in pts)
        out.append(f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2"/>')
        for n, r in pts:
            out.append(f'<circle cx="{px(n):.1f}" cy="{py(r):.1f}" r="3" fill="{colour}"/>')
        y = legend_y + 22 * (i + 1)
        out.append(f'<line x1="{legend_x}" y1="{y}" x2="{legend_x + 24}" y2="{y}" stroke="{colour}" stroke-width="2"/>')
        out.append(f'<text x="{legend_x + 30}" y="{y + 4}">{esc(name)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--results", default="target/bench/results")
    parser.add_argument("--svg", default="bench/growth.svg")
    args = parser.parse_args()
    costs = series(args.results)
    if not costs:
        sys.exit(f"no cost measured at two sizes in {args.results}: run bench/all.sh first")
    text = table(costs)
    with open(os.path.join(args.results, "growth.md"), "w") as f:
        f.write(text)
    with open(args.svg, "w") as f:
        f.write(svg(costs))
    print(text, end="")


if __name__ == "__main__":
    main()
