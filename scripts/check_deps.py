#!/usr/bin/python3
"""Every program the project's scripts, tests and bench call comes from a
Debian package that scripts/setup.sh installs.

It scans scripts/, test/ and bench/ for invoked programs: shebang lines,
commands at the start of shell lines (after |, &&, ;, $( and the like, through
wrappers such as sudo, timeout, stdbuf, `ip netns exec NS`), and in Python the
first element of list literals (subprocess argument lists, through the same
wrappers) and `sh -c` strings. Each one found on PATH is mapped to its package
with `dpkg -S`. A package is accepted when setup.sh lists it, when apt installs
it with one that is listed (Depends/Pre-Depends, followed recursively), or when
every Debian system has it (Essential: yes, or Priority: required). Otherwise
the check fails and names the command, where it is called and the package.

Candidates not on PATH are not programs (shell functions, app names such as
"http", variables); --verbose lists them.

usage: check_deps.py [--verbose] [--self-test]
"""
import ast
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCAN_DIRS = ("scripts", "test", "bench")

SHELL_WORDS = {
    # keywords and builtins: never a package's program
    "if", "then", "else", "elif", "fi", "for", "while", "until", "do", "done", "case", "esac", "in",
    "function", "return", "exit", "export", "local", "readonly", "declare", "set", "unset", "shift",
    "source", ".", "eval", "trap", "wait", "cd", "pushd", "popd", "read", "echo", "printf", "true",
    "false", "test", "[", "[[", "]]", "break", "continue", "let", "type", "hash", "command", "builtin",
    "ulimit", "umask", "exec", "kill", "jobs", "fg", "bg", "disown", "getopts", "mapfile", "{", "}",
    "!", "time", "coproc", "select", "alias",
}
# Wrappers: the program they run comes later in the same argument list.
WRAPPERS = {"sudo", "env", "stdbuf", "timeout", "nice", "taskset", "nohup", "setsid", "chroot",
            "unshare", "nsenter", "script", "xargs", "exec", "command", "time", "$SUDO", "${SUDO}"}
SEPARATORS = {"|", "||", "&&", ";", "&", "(", ")", "$(", "`", "|&", ";;", "then", "do", "else", "elif",
              "if", "while", "until", "!"}
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]*$")


class Call:
    def __init__(self, name: str, where: str):
        self.name = name
        self.where = where


def after_wrapper(words: list, i: int) -> int:
    """Index of the program a wrapper at words[i] runs, or len(words)."""
    w = words[i]
    j = i + 1
    if w in ("$SUDO", "${SUDO}", "sudo", "nohup", "setsid", "exec", "command", "time", "xargs"):
        while j < len(words) and isinstance(words[j], str) and words[j].startswith("-"):
            j += 1
        return j
    if w == "env":
        while j < len(words) and isinstance(words[j], str) and (words[j].startswith("-") or "=" in words[j]):
            j += 1
        return j
    if w in ("stdbuf", "nice", "unshare", "nsenter"):
        while j < len(words) and isinstance(words[j], str) and words[j].startswith("-"):
            j += 1
        return j
    if w == "timeout":
        while j < len(words) and isinstance(words[j], str) and words[j].startswith("-"):
            j += 1
        return j + 1  # the duration
    if w == "taskset":
        while j < len(words) and isinstance(words[j], str) and words[j].startswith("-"):
            j += 1
        return j + 1  # the mask
    if w == "chroot":
        return j + 1  # the root
    return len(words)  # script -c 'cmd' and the like: the string is parsed as shell elsewhere


def argv_commands(words: list, where: str, out: list) -> None:
    """Programs an argument list runs. Non-string elements are None."""
    i = 0
    while i < len(words):
        w = words[i]
        if not isinstance(w, str):
            return
        if w in ("sh", "bash") and i + 2 < len(words) and words[i + 1] == "-c" and isinstance(words[i + 2], str):
            out.append(Call(w, where))
            shell_commands(words[i + 2], where, out)
            return
        out.append(Call(w, where))
        if w in WRAPPERS:
            i = after_wrapper(words, i)
            continue
        if w == "ip" and len(words) > i + 3 and words[i + 1:i + 3] == ["netns", "exec"]:
            i += 4  # ip netns exec NS PROGRAM ...
            continue
        if w == "ip" and len(words) > i + 3 and words[i + 1] == "-n" and False:
            return
        return


def shell_tokens(line: str) -> list:
    lex = shlex.shlex(line, posix=True, punctuation_chars="|&;()<>")
    lex.whitespace_split = True
    lex.commenters = "#"
    try:
        return list(lex)
    except ValueError:
        return line.split()


def shell_commands(text: str, where: str, out: list, functions: set = frozenset()) -> None:
    """Programs in command position in shell text."""
    text = text.replace("$(", " ( ").replace("`", " ; ")
    in_heredoc = None
    for n, line in enumerate(text.split("\n"), 1):
        if in_heredoc is not None:
            if line.strip() == in_heredoc:
                in_heredoc = None
            continue
        m = re.search(r"<<-?\s*['\"]?([A-Za-z_]+)['\"]?", line)
        if m:
            in_heredoc = m.group(1)
        tokens = shell_tokens(line)
        start = True
        words: list = []
        for t in tokens + [";"]:
            if t in SEPARATORS or set(t) <= set("|&;()") and t:
                if words:
                    segment(words, f"{where}:{n}" if ":" not in where else where, out, functions)
                words = []
                continue
            if t.startswith(("<", ">")) or t.isdigit() and words and words[-1] in ("<", ">"):
                continue
            if not words and re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", t):
                continue  # VAR=value before a command
            words.append(t)
        del start


def segment(words: list, where: str, out: list, functions) -> None:
    found: list = []
    argv_commands(words, where, found)
    for c in found:
        if c.name in SHELL_WORDS or c.name in functions:
            continue
        out.append(c)


def scan_shell_file(path: Path, rel: str, out: list) -> None:
    text = path.read_text(errors="replace")
    functions = set(re.findall(r"^\s*(?:function\s+)?([A-Za-z_][A-Za-z0-9_-]*)\s*\(\)", text, re.M))
    shell_commands(text, rel, out, functions)


def scan_python_file(path: Path, rel: str, out: list) -> None:
    try:
        tree = ast.parse(path.read_text(errors="replace"))
    except SyntaxError:
        return
    for node in ast.walk(tree):
        if isinstance(node, (ast.List, ast.Tuple)) and node.elts:
            words = [e.value if isinstance(e, ast.Constant) and isinstance(e.value, str) else None for e in node.elts]
            if isinstance(words[0], str):
                argv_commands(words, f"{rel}:{node.lineno}", out)
        elif isinstance(node, ast.Call):
            f = node.func
            fname = f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else ""
            if fname == "which" and node.args and isinstance(node.args[0], ast.Constant):
                out.append(Call(str(node.args[0].value), f"{rel}:{node.lineno}"))
            shell = any(k.arg == "shell" and isinstance(k.value, ast.Constant) and k.value.value for k in node.keywords)
            if shell and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
                shell_commands(node.args[0].value, f"{rel}:{node.lineno}", out)


def scan(root: Path, dirs=SCAN_DIRS) -> list:
    out: list = []
    for d in dirs:
        base = root / d
        if not base.is_dir():
            continue
        for path in sorted(base.rglob("*")):
            if not path.is_file() or "results" in path.parts or "corpus" in path.parts:
                continue
            if path.resolve() == Path(__file__).resolve():
                continue  # this scanner's own word lists
            rel = str(path.relative_to(root))
            try:
                first = path.open("rb").readline().decode(errors="replace")
            except OSError:
                continue
            if first.startswith("#!"):
                words = first[2:].split()
                if words:
                    out.append(Call(words[0], f"{rel}:1"))
                    if os.path.basename(words[0]) == "env" and len(words) > 1:
                        out.append(Call(words[1], f"{rel}:1"))
            if path.suffix == ".sh" or first.startswith("#!") and ("sh" in first.split("/")[-1]):
                scan_shell_file(path, rel, out)
            elif path.suffix == ".py" or first.startswith("#!") and "python" in first:
                scan_python_file(path, rel, out)
    return out


def setup_packages(setup: Path) -> list:
    text = setup.read_text()
    m = re.search(r"^packages=\((.*?)^\)", text, re.S | re.M)
    if not m:
        raise SystemExit(f"check_deps: no packages=( ... ) list in {setup}")
    body = "\n".join(line.split("#", 1)[0] for line in m.group(1).split("\n"))
    return body.split()


def installed_packages() -> dict:
    """name -> (essential, priority, [dependency alternatives], [provides])."""
    fmt = "${Package}\t${Status}\t${Essential}\t${Priority}\t${Pre-Depends}, ${Depends}\t${Provides}\n"
    r = subprocess.run(["dpkg-query", "-W", "-f", fmt], capture_output=True, text=True, check=True)
    pkgs = {}
    for line in r.stdout.splitlines():
        name, status, essential, priority, deps, provides = (line.split("\t") + [""] * 6)[:6]
        if "installed" not in status.split():
            continue
        alts = []
        for d in deps.split(","):
            names = [re.sub(r"[\s(].*$", "", a.strip()).split(":")[0] for a in d.split("|") if a.strip()]
            if names:
                alts.append(names)
        prov = [re.sub(r"[\s(].*$", "", p.strip()) for p in provides.split(",") if p.strip()]
        pkgs[name] = (essential == "yes", priority, alts, prov)
    return pkgs


def closure(listed: list, pkgs: dict) -> dict:
    """Installed packages apt brings with the listed ones: name -> the listed package that pulls it."""
    providers: dict = {}
    for name, (_, _, _, prov) in pkgs.items():
        for p in prov:
            providers.setdefault(p, []).append(name)
    reached = {}
    stack = [(p, p) for p in listed if p in pkgs]
    while stack:
        name, via = stack.pop()
        if name in reached:
            continue
        reached[name] = via
        for alts in pkgs[name][2]:
            for a in alts:
                for real in ([a] if a in pkgs else []) + providers.get(a, []):
                    if real not in reached:
                        stack.append((real, via))
    return reached


def program_path(program: str):
    if "/" in program:
        return program if os.path.isfile(program) and os.access(program, os.X_OK) else None
    return shutil.which(program)


def packages_of(paths: list) -> dict:
    """path -> Debian package, for those dpkg knows; one `dpkg -S` call (it reads every file list)."""
    tries = {}
    for path in paths:
        base = os.path.basename(path)
        for t in [path, os.path.realpath(path)] + [f"{d}/{base}" for d in ("/usr/bin", "/bin", "/usr/sbin", "/sbin")]:
            tries.setdefault(t, path)
    r = subprocess.run(["dpkg", "-S"] + sorted(tries), capture_output=True, text=True)
    found = {}
    for line in r.stdout.splitlines():
        if line.startswith("diversion"):
            continue
        pkg, _, f = line.partition(": ")
        f = f.strip()
        if f in tries and tries[f] not in found:
            found[tries[f]] = pkg.split(",")[0].split(":")[0].strip()
    return found


def package_of(program: str) -> tuple:
    """(path, package) or (path, None) or (None, None) when not on PATH."""
    path = program_path(program)
    if path is None:
        return None, None
    return path, packages_of([path]).get(path)


def check(root: Path, setup: Path, verbose: bool = False) -> list:
    """Failure lines (empty: all good)."""
    listed = setup_packages(setup)
    pkgs = installed_packages()
    missing_listed = [p for p in listed if p not in pkgs]
    reached = closure(listed, pkgs)
    calls = scan(root)
    by_name: dict = {}
    for c in calls:
        by_name.setdefault(c.name, []).append(c.where)
    failures = []
    not_programs = []
    programs = {}
    for name in sorted(by_name):
        if not NAME.match(os.path.basename(name)) or name.startswith(("./", "../")) or "$" in name:
            continue
        if "/" in name and not name.startswith("/"):
            continue  # a path inside the project (scripts/build.sh, build/apps/...)
        path = program_path(name)
        if path is None:
            not_programs.append(name)
            continue
        if path.startswith(str(root)):
            continue  # the project's own programs
        programs[name] = path
    owners = packages_of(sorted(set(programs.values())))
    for name, path in programs.items():
        where = by_name[name]
        pkg = owners.get(path)
        if pkg is None:
            failures.append(f"'{name}' ({path}, called at {where[0]}) belongs to no Debian package: "
                            "install it from a package and list that in scripts/setup.sh")
            continue
        essential, priority = pkgs.get(pkg, (False, "", [], []))[:2]
        if pkg in listed:
            why = "listed"
        elif pkg in reached:
            why = f"comes with {reached[pkg]}"
        elif essential:
            why = "essential"
        elif priority == "required":
            why = "priority required"
        else:
            failures.append(f"'{name}' (called at {', '.join(where[:3])}) is in Debian package '{pkg}', "
                            f"which {setup.name} does not install: add '{pkg}' to its packages list")
            continue
        if verbose:
            print(f"  {name:<22} {path:<36} {pkg:<24} {why}")
    if verbose and not_programs:
        print(f"  not on PATH, not programs: {' '.join(not_programs)}")
    for p in missing_listed:
        failures.append(f"package '{p}' is listed in {setup.name} but not installed: run scripts/setup.sh")
    return failures


def self_test() -> int:
    """The check fails, naming the command and the package, when the list lacks it."""
    with tempfile.TemporaryDirectory(prefix="check-deps-") as d:
        root = Path(d)
        (root / "scripts").mkdir()
        (root / "test").mkdir()
        setup = root / "scripts" / "setup.sh"
        setup.write_text("packages=(\n  curl  # a comment\n)\n")
        (root / "scripts" / "a.sh").write_text(
            "#!/bin/sh\nhelper() { :; }\nhelper\nFOO=1 curl -s x | timeout 5 tshark -r f\n")
        (root / "test" / "b.py").write_text(
            "import subprocess\nsubprocess.run(['ip', 'netns', 'exec', 'ns', 'curl', 'x'])\n")
        failures = check(root, setup)
        tshark_pkg = package_of("tshark")[1]
        ip_pkg = package_of("ip")[1]
        want = {("tshark", tshark_pkg), ("ip", ip_pkg)}
        got = {(f.split("'")[1], f.split("'")[3]) for f in failures if "Debian package" in f}
        if tshark_pkg is None or ip_pkg is None or got != want or len(failures) != 2:
            print(f"check_deps self-test FAILED: expected failures for {sorted(want)}, got:", file=sys.stderr)
            for f in failures:
                print(f"  {f}", file=sys.stderr)
            return 1
        setup.write_text(f"packages=(\n  curl {tshark_pkg} {ip_pkg}\n)\n")
        if check(root, setup):
            print("check_deps self-test FAILED: still failing with the packages listed", file=sys.stderr)
            return 1
    print("check_deps self-test: a list without tshark/iproute2 fails naming both; with them it passes")
    return 0


def main() -> int:
    args = sys.argv[1:]
    if "--self-test" in args:
        return self_test()
    verbose = "--verbose" in args
    failures = check(ROOT, ROOT / "scripts" / "setup.sh", verbose)
    for f in failures:
        print(f"check_deps: {f}", file=sys.stderr)
    if failures:
        return 1
    print(f"check_deps: every program called in {', '.join(SCAN_DIRS)} comes from a package setup.sh installs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
