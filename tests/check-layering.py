"""The front ends are thin: no file under cli/ or web/ includes a header of
lib/store, lib/smtp or lib/tls (they reach those through libcaqmail), and
the caqmail binary links libcaqmail.so instead of a copy of the library.
Prints every offending line and exits 1."""

import os
import re
import subprocess
import sys

TOP = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
FRONT_ENDS = ["cli", "web"]
FORBIDDEN = re.compile(r'^\s*#\s*include\s*[<"](store|smtp|tls)/')


def offending_includes():
    found = []
    for front in FRONT_ENDS:
        for folder, _, names in os.walk(os.path.join(TOP, front)):
            for name in sorted(names):
                if not name.endswith((".c", ".h")):
                    continue
                path = os.path.join(folder, name)
                with open(path, encoding="utf-8") as f:
                    for number, line in enumerate(f, 1):
                        if FORBIDDEN.match(line):
                            found.append("%s:%d: %s" % (
                                os.path.relpath(path, TOP), number,
                                line.strip()))
    return found


def main():
    problems = offending_includes()
    for binary in sys.argv[1:]:
        dynamic = subprocess.run(["readelf", "-d", binary],
                                 capture_output=True, text=True).stdout
        if "[libcaqmail.so.0]" not in dynamic:
            problems.append("%s: does not link libcaqmail.so.0" % binary)
    for problem in problems:
        print(problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
