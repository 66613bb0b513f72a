"""Runs every workload against every stack, interleaved, and collects the samples.

Runs are interleaved (run 1 of every stack, then run 2, each time starting with a different
stack) so that a slow spell of the machine lands on all stacks alike rather than on one.
"""

import sys
import time

from .proc import NotAvailable, RunFailed


class Cell:
    """The samples of one metric for one stack."""

    def __init__(self):
        self.samples = []
        self.errors = []
        self.reason = None

    def to_json(self, summarize):
        cell = {"available": bool(self.samples)}
        if self.samples:
            cell.update(summarize(self.samples))
        else:
            cell["reason"] = self.reason or (self.errors[0] if self.errors else "not run")
        cell["samples"] = self.samples
        if self.errors:
            cell["errors"] = self.errors
        return cell


class Runner:
    def __init__(self, ctx, stacks, workloads):
        self.ctx = ctx
        self.stacks = stacks
        self.workloads = workloads
        self.cells = {m.key: {s.key: Cell() for s in stacks} for w in workloads for m in w.metrics}
        self.unavailable = {s.key: s.check() for s in stacks}

    def run(self):
        fresh = [w for w in self.workloads if w.fresh_stack]
        shared = [w for w in self.workloads if not w.fresh_stack]
        for workload in fresh:
            self._run_workload(workload)
        if shared:
            live = []
            try:
                for stack in self.stacks:
                    if self.unavailable[stack.key]:
                        continue
                    try:
                        stack.start()
                        live.append(stack)
                    except RunFailed as e:
                        self.unavailable[stack.key] = f"could not start: {e}"
                        stack.stop()
                        say(f"{stack.title}: {e}")
                for workload in shared:
                    self._run_workload(workload)
            finally:
                for stack in live:
                    stack.stop()

    def _run_workload(self, workload):
        say(f"== {workload.key}")
        active = []
        for stack in self.stacks:
            reason = self.unavailable[stack.key]
            if reason is None and not workload.fresh_stack:
                reason = self._probe(workload, stack)
            if reason is not None:
                self._mark(workload, stack, reason)
                say(f"   {stack.key}: n/a: {reason}")
            else:
                active.append(stack)
        runs = min(self.ctx.runs, workload.max_runs or self.ctx.runs)
        for i in range(runs):
            for stack in active[i % len(active):] + active[:i % len(active)] if active else []:
                if not workload.fresh_stack and not stack.alive():
                    self._restart(stack)
                t0 = time.monotonic()
                try:
                    values = workload.run_once(self.ctx, stack)
                except RunFailed as e:
                    for metric in workload.metrics:
                        self.cells[metric.key][stack.key].errors.append(str(e))
                    say(f"   run {i + 1}/{runs} {stack.key}: failed: {e}")
                    continue
                shown = []
                for metric in workload.metrics:
                    cell = self.cells[metric.key][stack.key]
                    value = values.get(metric.key)
                    if isinstance(value, NotAvailable):
                        cell.reason = str(value)
                    elif isinstance(value, list):
                        cell.samples.extend(value)
                        shown.append(f"{metric.key}={'/'.join(f'{v:.4g}' for v in value)}")
                    elif value is not None:
                        cell.samples.append(value)
                        shown.append(f"{metric.key}={value:.4g}")
                if shown:
                    say(f"   run {i + 1}/{runs} {stack.key}: {', '.join(shown)} ({time.monotonic() - t0:.0f} s)")

    def _probe(self, workload, stack):
        if not stack.alive():
            self._restart(stack)
        try:
            workload.probe(self.ctx, stack)
        except NotAvailable as e:
            return str(e)
        except RunFailed as e:
            return f"probe failed: {e}"
        return None

    def _restart(self, stack):
        say(f"   {stack.key}: the stack exited; starting it again")
        stack.stop()
        try:
            stack.start()
        except RunFailed as e:
            say(f"   {stack.key}: {e}")

    def _mark(self, workload, stack, reason):
        for metric in workload.metrics:
            self.cells[metric.key][stack.key].reason = reason


def say(text):
    print(text, file=sys.stderr, flush=True)
