"""Build the Lambda bundle for one stage: ``python infra/package.py STAGE [--output ZIP]``.

Zappa zips its working directory and a virtualenv's site-packages. Pointed at this repository
and the dev venv, that shipped the tests, the emulator, the deploy tooling, an installed (stale)
copy of ``app/`` and stale ``.pyc`` files. So the bundle is built from two fresh folders
instead, and Zappa only adds its handler and settings:

- a staging folder with exactly what ships: ``app/`` (without the local emulator),
  ``templates/``, the compiled ``.mo`` translations and ``zappa_settings.json``;
- a runtime-only site-packages, installed by pip from ``pyproject.toml``'s dependencies as
  wheels for the stage's Lambda runtime, without the AWS SDK (the runtime has it) and with
  Babel's locale data cut to the languages Cadenza speaks.

Then every ``.pyc`` is dropped; when this interpreter is the runtime's version, fresh ones are
compiled as unchecked-hash bytecode, which Python uses without comparing source dates (Zappa's
zip dates every file 1980, so ordinary ``.pyc`` files were always stale on Lambda and each cold
start recompiled everything).
"""

import argparse
import importlib.metadata
import json
import os
import py_compile
import shutil
import subprocess
import sys
import tempfile
import tomllib
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SETTINGS = ROOT / "zappa_settings.json"
# What the Lambda Python runtime provides already (boto3 and what it imports). Shipping them
# would add 29 MB and shadow the SDK the runtime pairs and patches; ``pyproject.toml`` keeps
# boto3's floor at a version older than any supported runtime's, and the deploy rehearsal runs
# the bundle against exactly that floor (RUNTIME_BOTO3).
PROVIDED_BY_RUNTIME = {  # project: its top-level module
    "boto3": "boto3",
    "botocore": "botocore",
    "s3transfer": "s3transfer",
    "jmespath": "jmespath",
    "python-dateutil": "dateutil",
    "six": "six.py",
    "urllib3": "urllib3",
}
RUNTIME_BOTO3 = "boto3==1.34.0"
# Zappa's handler imports these at run time; the rest of Zappa (its CLI, troposphere, …) is
# deploy tooling and stays out.
HANDLER_PACKAGES = ("zappa", "durationpy")
HANDLER_UNUSED = ("zappa/cli.py", "zappa/core.py", "zappa/letsencrypt.py", "zappa/policies")
# Babel's data for the languages Cadenza has (the base ``root`` locale and ``en``, ``it``).
LOCALES = ("root", "en", "it")
STAGED = ("app", "templates")
# Called by Zappa's handler with the SES bounce and complaint notifications (an SNS topic).
MAIL_EVENTS_FUNCTION = "app.bounces.handle"
NOT_SHIPPED = ("app/local",)


def stage_settings(stage: str) -> dict:
    settings = json.loads(SETTINGS.read_text())
    if stage not in settings:
        raise SystemExit(f"No stage {stage!r} in {SETTINGS.name} (stages: {', '.join(settings)})")
    return settings[stage]


def runtime_dependencies() -> list[str]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]


def stage_tree(staging: Path) -> None:
    """Copy what ships, and compile the translations into it."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.mo", "*.pot")
    for name in STAGED:
        shutil.copytree(ROOT / name, staging / name, ignore=ignore)
    for name in NOT_SHIPPED:
        shutil.rmtree(staging / name)
    for po_path in (staging / "app" / "translations").glob("*/LC_MESSAGES/messages.po"):
        with po_path.open("rb") as po_file:
            catalog = read_po(po_file)
        with po_path.with_suffix(".mo").open("wb") as mo_file:
            write_mo(mo_file, catalog)
        po_path.unlink()


def install_runtime(site_packages: Path, python_version: str) -> None:
    """The app's dependencies as wheels for the Lambda runtime, nothing else."""
    target = [
        "--target",
        str(site_packages),
        "--only-binary=:all:",
        "--platform",
        "manylinux2014_x86_64",
        "--implementation",
        "cp",
        "--python-version",
        python_version,
        "--no-compile",
        "--quiet",
        "--disable-pip-version-check",
    ]
    pip = [sys.executable, "-m", "pip", "install"]
    subprocess.run([*pip, *target, *runtime_dependencies()], check=True)
    _remove(site_packages / "bin")  # console scripts: nothing on Lambda runs them
    pinned = [f"{name}=={importlib.metadata.version(name)}" for name in HANDLER_PACKAGES]
    subprocess.run([*pip, *target, "--no-deps", *pinned], check=True)

    for dist_info in site_packages.glob("*.dist-info"):
        project = dist_info.name.split("-")[0].lower().replace("_", "-")
        if project in PROVIDED_BY_RUNTIME:
            _remove(dist_info)
            _remove(site_packages / PROVIDED_BY_RUNTIME[project])
    for unused in HANDLER_UNUSED:
        _remove(site_packages / unused)
    for data in (site_packages / "babel" / "locale-data").glob("*.dat"):
        if data.stem not in LOCALES:
            data.unlink()


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def zappa_package(stage: str, staging: Path, venv: Path, output: Path, settings: dict) -> None:
    """Let Zappa add its handler and generated settings to the staged tree and packages."""
    # The staging folder holds only what ships, so Zappa's own excludes have nothing to do;
    # its "precompiled packages" step would swap wheels behind pip's back: the runtime's wheels
    # are installed already.
    stage_config = {**settings, "use_precompiled_packages": False}
    stage_config.pop("exclude", None)
    stage_config.pop("exclude_glob", None)
    (staging / "zappa_settings.json").write_text(json.dumps({stage: stage_config}, indent=2))
    zappa = Path(sys.executable).with_name("zappa")
    environ = {**os.environ, "VIRTUAL_ENV": str(venv)}
    environ.setdefault("AWS_DEFAULT_REGION", settings.get("aws_region", "eu-west-1"))
    subprocess.run(
        [str(zappa), "package", stage, "--output", str(output)],
        cwd=staging,
        env=environ,
        check=True,
        stdout=subprocess.DEVNULL,
    )


def rewrite_bytecode(bundle: Path, runtime: str) -> int:
    """Drop every ``.pyc``; compile fresh unchecked-hash ones when this Python is the runtime's.

    Returns how many were compiled.
    """
    compile_here = runtime == f"python{sys.version_info.major}.{sys.version_info.minor}"
    with tempfile.TemporaryDirectory(prefix="cadenza-bundle-") as unpacked:
        tree = Path(unpacked)
        with zipfile.ZipFile(bundle) as archive:
            archive.extractall(tree)
        compiled = 0
        for path in sorted(tree.rglob("*")):
            if path.suffix == ".pyc" or path.name == "__pycache__":
                _remove(path)
        if compile_here:
            for source in sorted(tree.rglob("*.py")):
                py_compile.compile(
                    str(source),
                    doraise=True,
                    invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
                )
                compiled += 1
        bundle.unlink()
        with zipfile.ZipFile(bundle, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
            for path in sorted(tree.rglob("*")):
                if path.is_file():
                    info = zipfile.ZipInfo.from_file(path, path.relative_to(tree).as_posix())
                    # Lambda runs as another user than the one that unpacks: world-readable.
                    info.external_attr = 0o644 << 16
                    info.compress_type = zipfile.ZIP_DEFLATED
                    archive.writestr(info, path.read_bytes())
    return compiled


def with_stack_outputs(settings: dict, outputs: dict) -> dict:
    """The stage's settings completed from its data stack: the app's environment (tables,
    sender, base URL, secret parameter, configuration set) and the mail-events subscription."""
    settings = dict(settings)
    if "ExecutionRoleName" in outputs:
        # The stack's role, never one Zappa makes (its default policy allows every table).
        settings.update(role_name=outputs["ExecutionRoleName"], manage_roles=False)
    if "ZappaEnvironment" in outputs:
        environment = json.loads(outputs["ZappaEnvironment"])
        settings["environment_variables"] = {**settings["environment_variables"], **environment}
    if outputs.get("MailEventsTopicArn"):
        subscription = {
            "function": MAIL_EVENTS_FUNCTION,
            "event_source": {"arn": outputs["MailEventsTopicArn"], "events": ["sns:Publish"]},
        }
        others = [
            e for e in settings.get("events", []) if e.get("function") != MAIL_EVENTS_FUNCTION
        ]
        settings["events"] = [*others, subscription]
    return settings


def build(
    stage: str, output: Path, runtime: str | None = None, stack_outputs: dict | None = None
) -> dict:
    """Build the stage's bundle at ``output``; return what was built (for the caller to print)."""
    settings = with_stack_outputs(stage_settings(stage), stack_outputs or {})
    if runtime:
        settings = {**settings, "runtime": runtime}
    runtime = settings["runtime"]
    python_version = runtime.removeprefix("python")
    output = output.resolve()
    output.parent.mkdir(parents=True, exist_ok=True)
    output.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix="cadenza-package-") as work:
        staging = Path(work) / "staging"
        staging.mkdir()
        venv = Path(work) / "runtime"
        # Zappa reads site-packages where a venv of *this* interpreter would keep them.
        here = f"python{sys.version_info.major}.{sys.version_info.minor}"
        site_packages = venv / "lib" / here / "site-packages"
        stage_tree(staging)
        install_runtime(site_packages, python_version)
        zappa_package(stage, staging, venv, output, settings)
    compiled = rewrite_bytecode(output, runtime)
    with zipfile.ZipFile(output) as archive:
        names = archive.namelist()
        unzipped = sum(info.file_size for info in archive.infolist())
    return {
        "bundle": str(output),
        "runtime": runtime,
        "files": len(names),
        "zipped_mb": round(output.stat().st_size / 1e6, 2),
        "unzipped_mb": round(unzipped / 1e6, 2),
        "compiled_pyc": compiled,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stage")
    parser.add_argument(
        "--output", type=Path, help="the zip to write (default dist/cadenza-STAGE.zip)"
    )
    parser.add_argument(
        "--runtime",
        help="build for this Lambda runtime instead of the stage's (the rehearsal builds for "
        "the Python it runs on)",
    )
    parser.add_argument(
        "--stack-outputs",
        type=Path,
        help="a JSON file of the data stack's outputs (as `make deploy` reads them) to complete "
        "the stage's settings with",
    )
    args = parser.parse_args(argv)
    output = args.output or ROOT / "dist" / f"cadenza-{args.stage}.zip"
    outputs = json.loads(args.stack_outputs.read_text()) if args.stack_outputs else None
    built = build(args.stage, output, args.runtime, outputs)
    print(
        f"{built['bundle']}: {built['zipped_mb']} MB zipped, {built['unzipped_mb']} MB unzipped, "
        f"{built['files']} files, for {built['runtime']}"
    )
    if not built["compiled_pyc"]:
        print(
            f"  No .pyc shipped: this is Python {sys.version_info.major}.{sys.version_info.minor}"
            f" and the runtime is {built['runtime']}, so each cold start compiles the code. "
            "Build with that Python (PYTHON=… make package) to ship bytecode."
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
