"""Command line: ``python -m simulations list`` and ``python -m simulations run NAME``."""

import argparse
import contextlib
import sys
import time
from pathlib import Path

from simulations._registry import load_all, markdown_table


def _parser():
    parser = argparse.ArgumentParser(
        prog="python -m simulations", description="Reproduce the papers' tables and figures."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="list the studies")
    run = sub.add_parser("run", help="run one study")
    run.add_argument("name")
    run.add_argument("--reps", type=int, help="replications (default: the study's)")
    run.add_argument("--quick", action="store_true", help="a few replications, seconds")
    run.add_argument("--n-jobs", type=int, default=None, help="joblib workers (-1: all)")
    run.add_argument("--scheduler", help="dask.distributed scheduler address")
    run.add_argument("--seed", type=int, default=20231, help="root SeedSequence entropy")
    run.add_argument("--out", default="results", help="output folder (default: results)")
    return parser


def _backend(scheduler):
    """A context sending joblib work to a dask cluster when an address is given."""
    if scheduler is None:
        return contextlib.nullcontext()
    import joblib
    from dask.distributed import Client

    client = Client(scheduler)
    stack = contextlib.ExitStack()
    stack.enter_context(client)
    stack.enter_context(joblib.parallel_config(backend="dask"))
    return stack


def run_study(study, *, reps, quick, n_jobs, scheduler, seed, out):
    """Run ``study`` and write ``NAME.csv``, ``NAME.md`` and ``NAME.png`` to ``out``."""
    import matplotlib

    matplotlib.use("Agg")
    reps = reps or (study.quick_reps if quick else study.reps)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    with _backend(scheduler):
        result = study.run(reps, n_jobs=n_jobs, seed=seed, quick=quick)
    elapsed = time.perf_counter() - start
    result.raw.to_csv(out / f"{study.name}.csv", index=False)
    text = "\n\n".join([
        f"# {study.name}: {study.description}",
        f"{reps} replication{'' if reps == 1 else 's'}, seed {seed}, "
        f"{'quick' if quick else 'full'} run, "
        f"{elapsed:.1f} s.",
        markdown_table(result.table),
        result.notes,
    ]).rstrip() + "\n"
    (out / f"{study.name}.md").write_text(text)
    if result.figure is not None:
        result.figure.savefig(out / f"{study.name}.png", dpi=120, bbox_inches="tight")
    return text


def main(argv=None):
    args = _parser().parse_args(argv)
    studies = load_all()
    if args.command == "list":
        width = max(len(n) for n in studies)
        for name in sorted(studies):
            print(f"{name:<{width}}  {studies[name].description}")
        return 0
    if args.name not in studies:
        known = ", ".join(sorted(studies))
        print(f"unknown study {args.name!r}; known: {known}", file=sys.stderr)
        return 2
    text = run_study(studies[args.name], reps=args.reps, quick=args.quick,
                     n_jobs=args.n_jobs, scheduler=args.scheduler, seed=args.seed,
                     out=args.out)
    print(text)
    print(f"wrote {args.out}/{args.name}.csv, .md and .png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
