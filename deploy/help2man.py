#!/usr/bin/python3
"""Writes a man page (roff, section 1) from a program's --help text.

usage: help2man.py PROGRAM NAME VERSION SUMMARY OUT

The page is the --help text itself, verbatim (so the two never disagree),
under the usual NAME / SYNOPSIS / DESCRIPTION / SEE ALSO headings. The first
line of --help that starts with "usage:" becomes the SYNOPSIS.
"""
import subprocess
import sys


def roff_escape(line: str) -> str:
    line = line.replace("\\", "\\e")
    # A line starting with '.' or "'" would be read as a roff request.
    if line.startswith((".", "'")):
        line = "\\&" + line
    return line


def page(name: str, version: str, summary: str, help_text: str) -> str:
    lines = help_text.rstrip("\n").split("\n")
    synopsis = ""
    if lines and lines[0].lower().startswith("usage:"):
        synopsis = lines[0][len("usage:"):].strip()
        lines = lines[1:]
        while lines and not lines[0].strip():
            lines = lines[1:]
    out = [
        f'.TH {name.upper()} 1 "" "synmill {version}" "synmill manual"',
        ".SH NAME",
        f"{name} \\- {roff_escape(summary)}",
    ]
    if synopsis:
        out += [".SH SYNOPSIS", ".nf", roff_escape(synopsis), ".fi"]
    out += [".SH DESCRIPTION", "The text below is what", f".B {name} --help", "prints.", ".PP", ".nf"]
    out += [roff_escape(line) for line in lines]
    out += [".fi", ".SH SEE ALSO"]
    others = [p for p in ("synmill", "synmill-gen", "synmill-ctl") if p != name]
    out.append(", ".join(f"\\fB{p}\\fR(1)" for p in others) + ", \\fBdpdk-dumpcap\\fR(1)")
    return "\n".join(out) + "\n"


def main() -> int:
    if len(sys.argv) != 6:
        print(__doc__.strip().split("\n\n")[1], file=sys.stderr)
        return 2
    program, name, version, summary, out_path = sys.argv[1:]
    r = subprocess.run([program, "--help"], capture_output=True, text=True, timeout=60)
    if r.returncode != 0 or not r.stdout.strip():
        print(f"help2man.py: '{program} --help' exited {r.returncode}: {r.stderr.strip()}", file=sys.stderr)
        return 1
    with open(out_path, "w", encoding="utf-8") as f:
        f.write(page(name, version, summary, r.stdout))
    return 0


if __name__ == "__main__":
    sys.exit(main())
