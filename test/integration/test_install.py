"""`meson install` into a DESTDIR, then the installed synmill, started the way
synmill@.service starts it (`synmill -- --config FILE`, EAL arguments in the
file, built from the installed example.conf), from a working directory outside
the source tree, serving the kernel's curl; the installed synmill-ctl reads
it. Also checks what else is installed: the profiles, the unit, the sample
configuration and a man page per program carrying its --help text."""
import os
import re
import shutil
import subprocess
import tempfile
import unittest

import harness
from harness import SynmillCase, SynmillEnv, delta, run

PREFIX = "/usr/local"  # meson's default prefix: the build's compiled-in datadir is under it
PROGRAMS = ("synmill", "synmill-gen", "synmill-ctl")


def man_text(roff):
    """The verbatim lines of a page written by deploy/help2man.py, unescaped."""
    lines = roff.split("\n")
    start = lines.index(".nf", lines.index(".SH DESCRIPTION"))
    end = lines.index(".fi", start)
    return [re.sub(r"^\\&", "", ln).replace("\\e", "\\") for ln in lines[start + 1:end]]


class InstallTest(SynmillCase):
    TIMEOUT_S = 300

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="synmill-install-")
        cls.dest = os.path.join(cls.tmp, "dest")
        r = run(["meson", "install", "-C", harness.build_dir(), "--no-rebuild", "--destdir", cls.dest],
                check=False, timeout=300)
        if r.returncode != 0:
            shutil.rmtree(cls.tmp, ignore_errors=True)
            raise AssertionError(f"meson install failed (rc {r.returncode}):\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}")
        cls.root = cls.dest + PREFIX
        cls.elsewhere = os.path.join(cls.tmp, "elsewhere")  # no drivers-config here or above
        os.makedirs(cls.elsewhere)
        env = dict(os.environ)
        env.pop("SYNMILL_DRIVERS_CONFIG", None)
        os.environ.pop("SYNMILL_DRIVERS_CONFIG", None)
        cls.env = cls.enterClassContext(SynmillEnv(
            "80:http,9100:metrics", ("--grace", "1"), name=cls.__name__,
            binary=os.path.join(cls.root, "bin", "synmill"), cwd=cls.elsewhere,
            config_template=os.path.join(cls.root, "share", "doc", "synmill", "example.conf")))

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_0_files_in_place(self):
        for p in PROGRAMS:
            self.assertTrue(os.access(os.path.join(self.root, "bin", p), os.X_OK), p)
        profiles = os.listdir(os.path.join(self.root, "share", "synmill", "drivers-config"))
        for f in ("tap.conf", "memif.conf", "mlx5.conf", "i40e.conf"):
            self.assertIn(f, profiles)
        unit = open(os.path.join(self.root, "lib", "systemd", "system", "synmill@.service")).read()
        self.assertIn(f"ExecStart={PREFIX}/bin/synmill -- --config /etc/synmill/%i.conf", unit)
        self.assertRegex(unit, r"\nRestart=on-failure\n")

    def test_1_man_pages_are_the_help(self):
        for p in PROGRAMS:
            page = open(os.path.join(self.root, "share", "man", "man1", f"{p}.1")).read()
            self.assertTrue(page.startswith(f".TH {p.upper()} 1"), page[:80])
            helptext = subprocess.run([os.path.join(self.root, "bin", p), "--help"], capture_output=True,
                                      text=True, timeout=30, cwd=self.elsewhere).stdout
            body = [ln for ln in helptext.rstrip("\n").split("\n") if not ln.lower().startswith("usage:")]
            shown = man_text(page)
            missing = [ln for ln in body if ln and ln not in shown]
            self.assertEqual(missing, [], f"{p}.1 lacks lines of {p} --help")

    def test_2_runs_from_elsewhere_with_the_installed_profiles(self):
        cfg = self.env.telemetry.query("/synmill/config")
        profile_dir = os.path.join(self.root, "share", "synmill", "drivers-config")
        self.assertEqual(os.path.normpath(cfg["port_profile"]), os.path.join(profile_dir, "tap.conf"))
        self.assertEqual(cfg["config"], self.env.config_path)
        self.assertIn(f"--file-prefix {self.env.file_prefix}", cfg["eal"])

    def test_3_serves_kernel_curl(self):
        env = self.env
        before = env.stats()
        n = 100
        r = env.client("curl_seq", timeout=240, n=n, budget=200)
        self.assertEqual(r["ok"], n, f"{n - r['ok']} of {n} curl requests wrong; first: {r['bad'][:3]}")
        self.wait_quiet(timeout=15)
        after = env.stats()
        self.assertEqual(delta(after, before, "established"), n)
        self.assertEqual(delta(after, before, "closed_reset"), 0)

    def test_4_installed_ctl_reads_it(self):
        ctl = os.path.join(self.root, "bin", "synmill-ctl")
        r = subprocess.run([ctl, "--file-prefix", self.env.file_prefix, "config"], capture_output=True,
                           text=True, timeout=30, cwd=self.elsewhere)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("tap.conf", r.stdout)
        self.assertIn("9100:metrics", r.stdout)


if __name__ == "__main__":
    unittest.main()
