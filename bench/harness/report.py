"""The results as JSON, a markdown table and a PNG chart of the Usernet/pasta ratios."""

import json
import os
import re

from .workloads import summarize

STACK_ORDER = ["host", "usernet", "usernet_rules", "pasta", "pasta-debian", "slirp4netns"]


def build(runner, machine, options, stacks, started, finished):
    metrics = []
    for workload in runner.workloads:
        for metric in workload.metrics:
            cells = {key: cell.to_json(summarize) for key, cell in runner.cells[metric.key].items()}
            usernet, pasta = cells.get("usernet", {}), cells.get("pasta", {})
            ratio = median_ratio(usernet, pasta)
            overlap = None
            if ratio is not None:
                overlap = not (usernet["max"] < pasta["min"] or usernet["min"] > pasta["max"])
            entry = {
                "key": metric.key,
                "workload": workload.key,
                "title": metric.title,
                "unit": metric.unit,
                "better": metric.better,
                "note": metric.note,
                "results": cells,
                "usernet_to_pasta": ratio,
                "ranges_overlap": overlap,
            }
            judge(entry, metric)
            metrics.append(entry)
    return {
        "schema": 1,
        "started": started,
        "finished": finished,
        "options": options,
        "machine": machine,
        "stacks": {s.key: {"title": s.title, "version": s.version(), "available": runner.unavailable[s.key] is None,
                           "reason": runner.unavailable[s.key]} for s in stacks},
        "metrics": metrics,
        "diagnostics": {s.key: s.diagnostics() for s in stacks if s.diagnostics() is not None},
    }


def judge(entry, metric):
    """Sets a result entry's targets and verdicts from metric's definition: at the end of a run,
    and again by --render, so that targets changed since a run apply to its figures."""
    usernet = entry["results"].get("usernet", {})
    # The kernel's own loopback: how far from the limit Usernet is.
    entry["usernet_to_host"] = median_ratio(usernet, entry["results"].get("host", {}))
    for field, target in (("target", metric.target), ("host_target", metric.host_target)):
        entry[field] = None if target is None else {
            "kind": target.kind, "op": target.op, "value": target.value, "text": target.text(metric.unit)}
        entry[f"{field}_met"] = None if target is None else target.met(
            usernet.get("median"), entry["usernet_to_pasta"], entry["usernet_to_host"])


def judge_again(results, workloads):
    """judge() for every figure of results that the current workloads still define."""
    defined = {metric.key: metric for workload in workloads for metric in workload.metrics}
    for entry in results["metrics"]:
        if entry["key"] in defined:
            judge(entry, defined[entry["key"]])


def median_ratio(a, b):
    if a.get("available") and b.get("available") and b["median"] != 0:
        return a["median"] / b["median"]
    return None


def number(v):
    a = abs(v)
    if a >= 1000:
        return f"{v:,.0f}"
    if a >= 100:
        return f"{v:.0f}"
    if a >= 10:
        return f"{v:.1f}"
    if a >= 1:
        return f"{v:.2f}"
    return f"{v:.3f}"


def markdown(results):
    present = [k for k in STACK_ORDER if k in results["stacks"]]
    notes = []
    overlaps = False

    def footnote(reason):
        if reason not in notes:
            notes.append(reason)
        return f"n/a [{notes.index(reason) + 1}]"

    head = ["workload"] + [results["stacks"][k]["title"] for k in present] + ["Usernet / host", "Usernet / pasta", "target", "met"]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join(["---"] + ["---:"] * (len(present) + 2) + ["---", ":---:"]) + "|"]
    for m in results["metrics"]:
        row = [f"{m['title']} ({m['unit']})"]
        for k in present:
            cell = m["results"][k]
            if cell["available"]:
                spread = f" ({number(cell['min'])}–{number(cell['max'])})" if len(cell["samples"]) > 1 else ""
                row.append(f"**{number(cell['median'])}**{spread}")
            else:
                row.append(footnote(cell["reason"]))
        for ratio in (m.get("usernet_to_host"), m["usernet_to_pasta"]):
            row.append(f"{ratio:.2f}×" if ratio is not None else "–")
        targets, verdicts = [], []
        for field in ("target", "host_target"):
            target, met = m.get(field), m.get(f"{field}_met")
            if not target:
                continue
            verdict = {True: "✓", False: "✗", None: "n/a"}[met]
            if met is not None and target["kind"] == "ratio" and m["ranges_overlap"]:
                verdict += " ~"
                overlaps = True
            targets.append(target["text"])
            verdicts.append(verdict)
        row.append("; ".join(targets))
        row.append("; ".join(verdicts))
        lines.append("| " + " | ".join(row) + " |")
    text = "\n".join(lines) + "\n"
    if overlaps:
        text += "\n~ Usernet's and pasta's min–max ranges overlap: this verdict can change from run to run.\n"
    if notes:
        text += "\n" + "\n".join(f"[{i + 1}] {reason}  " for i, reason in enumerate(notes)) + "\n"
    return text


def machine_markdown(results):
    m, o = results["machine"], results["options"]
    usernet = results["stacks"].get("usernet", {}).get("version")
    versions = ", ".join(f"{k} {v}" for k, v in ([("Usernet", usernet)] + list(m["versions"].items())) if v)
    return (f"- Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gib']:.0f} GiB, Linux {m['kernel']}, {m['os']}\n"
            f"- Load average before / after: {m['load_before']} / {m['load_after']}\n"
            f"- Versions: {versions}\n"
            f"- Run: {results['started']}, {o['runs']} runs of {o['duration_s']} s per figure (memory: at most 3 runs)"
            f"{' (--quick)' if o['quick'] else ''}; each cell is the median, (min–max) across runs\n")


def chart(results, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker  # noqa: F401

    rows = results["metrics"]
    shown = [m["usernet_to_pasta"] for m in rows if m["usernet_to_pasta"] is not None and m["usernet_to_pasta"] > 0]
    fig, ax = plt.subplots(figsize=(10, max(4.0, 1.4 + 0.42 * len(rows))), dpi=110)
    if not shown:
        ax.text(0.5, 0.5, "no figure had both Usernet and pasta", ha="center", va="center")
        ax.set_axis_off()
    else:
        lo = min(min(shown), 0.5) / 1.5
        hi = max(max(shown), 2.0) * 1.6
        ys = list(range(len(rows)))[::-1]
        labels = []
        for y, m in zip(ys, rows):
            r, t = m["usernet_to_pasta"], m["target"]
            better = "higher is better" if m["better"] == "higher" else "lower is better"
            if t and t["kind"] == "absolute":
                better += f"; target {t['text']}"
            labels.append(f"{m['title']}\n({better})")
            if r is None:
                ax.text(lo * 1.05, y, "n/a: no Usernet figure (see the table)", va="center", fontsize=8, color="#666666")
                continue
            if r <= 0:
                # Usernet's figure is zero (no loss, say): a log scale has no place for it.
                ax.text(lo * 1.05, y, f"{r:.2f}×: Usernet's figure is 0", va="center", fontsize=8, color="#666666")
                continue
            colour = {True: "#3a9a4a", False: "#c8463c", None: "#8a8f98"}[m["target_met"]]
            ax.barh([y], [r], color=colour, height=0.6)
            if t and t["kind"] == "ratio":
                ax.plot([t["value"]] * 2, [y - 0.42, y + 0.42], color="#1f4e9a", linewidth=2.2)
            ax.text(r, y, f" {r:.2f}×", va="center", fontsize=8)
        ax.axvline(1.0, color="#333333", linewidth=0.8)
        ax.set_yticks(ys)
        ax.set_yticklabels(labels, fontsize=8)
        ax.set_xscale("log")
        ax.set_xlim(lo, hi)
        ticks = [t for t in (0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50) if lo <= t <= hi]
        ax.set_xticks(ticks)
        ax.set_xticklabels([f"{t:g}×" for t in ticks])
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.plot([], [], color="#1f4e9a", linewidth=2.2, label="target (ratio)")
        ax.legend(loc="lower right", fontsize=8)
        ax.set_xlabel("Usernet / pasta, medians of the same run (green: target met, red: missed, grey: no target)")
    ax.set_title(f"Usernet relative to pasta — {results['machine']['cpu']}, {results['machine']['cores']} cores", fontsize=10)
    fig.tight_layout()
    # The labels are long: let the image grow to hold them rather than cut them.
    fig.savefig(path, bbox_inches="tight")
    plt.close(fig)


def write(results, directory, doc_path=None):
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, "latest.json"), "w") as f:
        json.dump(results, f, indent=1, ensure_ascii=False)
        f.write("\n")
    table = markdown(results)
    with open(os.path.join(directory, "latest.md"), "w") as f:
        f.write("# Usernet benchmark: latest results\n\n" + machine_markdown(results) + "\n" + table)
    chart_error = None
    try:
        chart(results, os.path.join(directory, "latest.png"))
    except ImportError as e:
        chart_error = f"no chart: {e} (install python3-matplotlib)"
    if doc_path:
        update_doc(doc_path, results, table)
    return chart_error


BEGIN, END = "<!-- results:begin -->", "<!-- results:end -->"


def update_doc(path, results, table):
    """Replaces the results section of BENCHMARKS.md with this run's."""
    with open(path) as f:
        text = f.read()
    if BEGIN not in text or END not in text:
        return
    section = (f"{BEGIN}\n{machine_markdown(results)}\n{table}\n"
               f"![Usernet / pasta ratios](bench/results/latest.png)\n{END}")
    text = re.sub(re.escape(BEGIN) + ".*?" + re.escape(END), lambda _: section, text, flags=re.S)
    with open(path, "w") as f:
        f.write(text)
