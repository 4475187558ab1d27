"""Many services, one cache: shared base images, the build graph, caches, CI (issue 7).

* :mod:`.project`: the input, a compose file or a set of Dockerfiles given on the command
  line (each built in its directory unless told otherwise).
* :mod:`.plan`: what the services share (base image, leading instructions, system
  packages, Python requirements) and the plan to extract it.
* :mod:`.render`: the generated base Dockerfile(s), the rewritten service Dockerfiles and
  ``docker-bake.hcl``, as file texts (nothing is written here).
* :mod:`.graph`: the build graph (bases, then services) from a compose file or Dockerfile
  set, in topological levels; cycles are errors.
* :mod:`.graph_builder`: builds the graph on BuildKit (bake with buildx, else the CLI per
  target); its bench before and after extraction is :mod:`jettison.bench.compose`.
* :mod:`.multiarch`: architecture-specific steps and what the local engine can build.
* :mod:`.ci`: the GitHub Actions workflow.
* :mod:`.measure`: unique bytes across images (layers shared counted once).
"""
