"""``jettison fix`` as a library. :func:`jettison.fixes.fix_paths.fix_paths` is the entry.

- :mod:`.fix_paths`: the verb: discovery, compose builds, engine, --verify, writing;
- :mod:`.per_file`: one Dockerfile: fixes, build-context fixes, --verify with bisection;
- :mod:`.pipeline`: rule fixes, then the multi-stage conversion;
- :mod:`.apply`: rule fixes as span edits, to a fixpoint (what every fix goes through);
- :mod:`.multistage`: the conversion (plan, classify RUN commands, render);
- :mod:`.runtime_libs`: the conversion's engine scan of the libraries the runtime needs;
- :mod:`.verify`: build before and after, smoke-check, compare, bisect;
- :mod:`.semantic_check`: does a safe fix leave the image the same.
"""
