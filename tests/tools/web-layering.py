#!/usr/bin/python3
"""The web server is a front end over the public library: its files
include <caqmail/caqmail.h>, the configuration, event and module headers
of lib/common, and system headers; never a module of the library itself
(lib/store, lib/smtp, lib/tls or any other)."""

import os
import re
import sys

ALLOWED_LOCAL = {"caqmail/caqmail.h", "common/config.h", "common/event.h",
                 "common/module.h", "cq-web-resources.h"}
INCLUDE = re.compile(r'^\s*#\s*include\s+[<"]([^">]+)[">]', re.M)


def main(root):
    bad = []
    web = os.path.join(root, "web")
    for name in sorted(os.listdir(web)):
        if not name.endswith((".c", ".h")):
            continue
        with open(os.path.join(web, name)) as f:
            for header in INCLUDE.findall(f.read()):
                local = header.split("/")[0] in (
                    "access", "api", "attach", "catalog", "common",
                    "compose", "deliver", "document", "history", "measures",
                    "gauges", "mime", "outbox", "resolve", "smtp", "store",
                    "tls", "workflow") or header.startswith("cq-")
                if local and header not in ALLOWED_LOCAL:
                    bad.append("web/%s includes %s" % (name, header))
    for line in bad:
        print(line)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "."))
