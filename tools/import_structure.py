"""Which top-level package imports which, read off the code (grimp, which import-linter uses):
the drawing of docs/architecture.md, made again with `make structure`."""

from __future__ import annotations

import grimp

PACKAGES = ["bot", "handlers", "jobs", "services", "chat", "db", "rendering", "domain", "config",
            "sandbox"]


def main() -> None:
    graph = grimp.build_graph(*PACKAGES)
    for importer in PACKAGES:
        imported = [other for other in PACKAGES if other != importer
                    and graph.direct_import_exists(importer=importer, imported=other,
                                                   as_packages=True)]
        print(f"{importer:10} -> {', '.join(imported) or '(nothing of ours)'}")


if __name__ == "__main__":
    main()
