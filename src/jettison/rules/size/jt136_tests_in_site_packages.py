"""JT136 tests-in-site-packages: the installed packages' own test suites ship in the image."""

from __future__ import annotations

from collections.abc import Iterator

from jettison.dockerfile import Instruction
from jettison.dockerfile import commands as sh
from jettison.findings import Finding, FixSafety, Severity
from jettison.rules.registry import Category, RuleContext, rule
from jettison.rules.size._common import installed_tree_filter
from jettison.rules.size._pip_names import installed_names, listed

# what a RUN appends: every `tests` or `test` package directory under a site-packages folder
# this layer wrote (a venv, --prefix, --user or the system one) or under a `pip install
# --target` directory, except Django's `django.test`, which applications import at run time
# (test runners, `override_settings`); -xdev keeps it off cache mounts
_TRIM = (
    "find / -xdev -type d \\( -name tests -o -name test \\) {where} ! -path '*/django/test' "
    "-prune -exec rm -rf {{}} +"
)
TRIM = _TRIM.format(where="-path '*/site-packages/*'")
# distributions that ship test suites inside the package (a `tests` or `test` package under
# site-packages: pandas ~60 MB, scipy, numpy, scikit-learn, posthog 7.6 MB ...), and common
# ones that install them (seaborn needs pandas and matplotlib); PEP 503 names. The second
# group was measured on the Linux wheels of 206 popular distributions (2026-12): those whose
# wheel carries at least 0.15 MB of tests (gensim 31.6 MB, twisted 7.3, pywavelets 6.0,
# gevent 1.1, tornado 1.0, passlib 0.8, mypy 0.8 ... regex and jsonschema 0.2), twice that
# once installed with their byte code
WITH_TESTS = frozenset(
    {
        "numpy", "pandas", "scipy", "scikit-learn", "sklearn", "matplotlib", "statsmodels",
        "networkx", "sympy", "pyarrow", "numba", "astropy", "scikit-image", "xarray", "dask",
        "h5py", "tables", "geopandas", "shapely", "gensim", "spacy", "nltk", "bokeh",
        "seaborn", "shap", "tsfresh", "evidently", "explainerdashboard", "prophet", "pmdarima",
        "lightgbm", "xgboost", "catboost", "tensorflow", "keras", "opencv-python",
        "opencv-python-headless", "transformers", "pymc", "arviz", "plotnine", "sktime",
        "imbalanced-learn", "umap-learn", "pandas-profiling", "ydata-profiling", "magika",
        "onnxruntime", "pytensor", "patsy", "posthog",
        "twisted", "pywavelets", "gevent", "tornado", "passlib", "mypy", "mpmath",
        "zope-interface", "srsly", "joblib", "greenlet", "llvmlite", "thinc", "regex",
        "aniso8601", "aiosmtpd", "websocket-client", "pyflakes", "jsonschema", "simplejson",
        "django-compressor", "numcodecs",
    }
)  # fmt: skip


def _trims_tests(ins: Instruction) -> bool:
    return any(
        cmd.name == "find" and "tests" in cmd.arg_values and "rm" in sh.find_exec_actions(cmd)
        for cmd in sh.commands(ins)
    )


@rule(
    "JT136",
    "tests-in-site-packages",
    Category.SIZE,
    Severity.INFO,
    "the installed packages' own test suites ship in the image",
    what="""
        Flags a RUN whose pip install brings in distributions known to ship their test
        suites inside the package (numpy, pandas, scipy, scikit-learn, matplotlib and the
        packages that install them; gevent, greenlet, twisted, tornado, passlib, jsonschema,
        regex and other web-service dependencies), as the command line, its requirements
        files and the local project's metadata in the build context name them, without
        removing the `tests` directories they put into site-packages.
    """,
    why="""
        Many distributions ship their test suites inside the package: pandas about 60 MB,
        scipy and numpy tens of MB each, scikit-learn, matplotlib and many more; in a web
        service, gevent, greenlet, passlib and zope.interface bring several MB together. The
        application never imports them; in data and ML images they are often 10-15 % of
        the image. Removing them in the RUN that installed them is the only way they leave
        the layer.
    """,
    example="RUN pip install --no-cache-dir -r requirements.txt",
    use_instead=f"""
        RUN pip install --no-cache-dir -r requirements.txt \\
            && {TRIM}
    """,
    fix=f"""
        Unsafe: appends `{TRIM}` to the RUN. A package that imports its own `tests`
        package at run time breaks; `jettison fix --unsafe-fixes --verify` builds the
        image, runs its checks and rolls this fix back on its own when one fails.
    """,
    notes="""
        Only directories named `tests` or `test` under a `site-packages` folder or a `pip
        install --target` directory are removed, never Django's `django/test` (applications
        import `django.test` at run time).
        `find -xdev` stays on the image's filesystem, off cache and bind mounts.
    """,
    fix_safety=FixSafety.UNSAFE,
)
def tests_in_site_packages(ctx: RuleContext) -> Iterator[Finding]:
    for ins in ctx.runs():
        if _trims_tests(ins):
            continue
        heavy = sorted(installed_names(ctx, ins) & WITH_TESTS)
        if not heavy:
            continue
        trim = _TRIM.format(where=installed_tree_filter(ins))
        edit = sh.append_to_run(ins, ctx.dockerfile, trim)
        yield ctx.report(
            f"the `tests` directories of the packages this RUN installs ({listed(heavy, 4)}) "
            "stay in this layer (pandas alone ships about 60 MB of them); remove them in the "
            "same RUN",
            ins,
            edits=[edit] if edit else None,
        )
