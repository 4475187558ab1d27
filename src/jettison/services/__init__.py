"""Many services, one cache: shared base images, the build graph, caches, CI (issue 7).

* :mod:`.plan`: what the services of a compose file share (base image, leading
  instructions, system packages, Python requirements) and the plan to extract it.
* :mod:`.render`: the generated base Dockerfile(s), the rewritten service Dockerfiles and
  ``docker-bake.hcl``, as file texts (nothing is written here).
* :mod:`.graph`: the build graph (bases, then services) from a compose file and its
  Dockerfiles, in topological levels; cycles are errors.
* :mod:`.build`: builds the graph on BuildKit (bake with buildx, else the CLI per target).
* :mod:`.multiarch`: architecture-specific steps and what the local engine can build.
* :mod:`.ci`: the GitHub Actions workflow.
* :mod:`.measure`: unique bytes across images (layers shared counted once).
"""
