"""``planflow audit``: verify, checkpoint, sign, publish and export the trail."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from planflow.cli.app import Context, pass_ctx
from planflow.cli.params import ID
from planflow.core.audit_chain import ChainProblem
from planflow.core.checkpoints import Signed, parse_line
from planflow.integrations.checkpoints import CheckpointSettings, PublishError, publish_to_file
from planflow.integrations.signing import (
    KEY_ENV,
    Verifier,
    generate,
    key_path_from_env,
    load_signer,
    load_verifier,
)
from planflow.storage import audit_repo, published_checkpoints
from planflow.storage import signed_checkpoints as sc


@click.group()
def audit() -> None:
    """The verifiable audit trail."""


@audit.command("verify")
@click.option(
    "--checkpoints",
    "checkpoints_file",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="Also check the trail against these published signed checkpoints (one JSON line each).",
)
@click.option(
    "--public-key",
    "public_keys",
    multiple=True,
    metavar="KEY",
    help=f"The signing key's public key (base64, or a file); default: that of {KEY_ENV}.",
)
@pass_ctx
def audit_verify(ctx: Context, checkpoints_file: str | None, public_keys: tuple[str, ...]) -> None:
    """Check every chain and checkpoint; name the first record that was tampered with.

    With --checkpoints, also check the records against the heads signed in
    the published file: what an administrator of the database cannot forge.
    """
    verifiers = _verifiers(public_keys) if checkpoints_file else {}
    report = audit_repo.verify(ctx.pf.db)
    click.echo(
        f"checked {report.records} records of {report.plans} plans "
        f"and {report.checkpoints} checkpoints, "
        f"and {report.org_records} records of the organisation's admin actions"
    )
    problems = list(report.problems)
    if checkpoints_file is not None:
        problems += _verify_published(ctx, Path(checkpoints_file), verifiers)
    elif (signed := sc.count(ctx.pf.db)) > 0:
        click.echo(
            f"{signed} signed checkpoints in the database: check the trail against the "
            "published ones with --checkpoints FILE"
        )
    if not problems:
        click.echo("audit trail OK")
        return
    # The subscribed webhooks and robots hear of it (once per distinct failure);
    # a failure to tell them must not hide the verdict.
    try:
        ctx.pf.tell_audit_failure(problems)
    except Exception as exc:
        click.echo(f"(the webhooks could not be told: {exc})", err=True)
    click.echo(f"audit trail BROKEN: {problems[0]}", err=True)
    for problem in problems[1:10]:
        click.echo(f"  also: {problem}", err=True)
    raise click.exceptions.Exit(1)


def _verifiers(public_keys: tuple[str, ...]) -> dict[str, Verifier]:
    if public_keys:
        verifiers = [load_verifier(k) for k in public_keys]
    elif (path := key_path_from_env()) is not None:
        verifiers = [load_signer(path).verifier()]
    else:
        raise click.UsageError(f"--checkpoints needs --public-key KEY (or {KEY_ENV})")
    return {v.key_id: v for v in verifiers}


def _verify_published(
    ctx: Context, path: Path, verifiers: dict[str, Verifier]
) -> list[ChainProblem]:
    problems: list[ChainProblem] = []
    published: list[Signed] = []
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                published.append(parse_line(line))
            except ValueError as exc:
                problems.append(
                    ChainProblem(None, None, f"{path} line {number}: {exc}", "signed_line_invalid")
                )
    if not published:
        raise click.ClickException(f"{path} holds no signed checkpoint")

    def check(key_id: str, data: bytes, signature: bytes) -> str | None:
        verifier = verifiers.get(key_id)
        if verifier is None:
            return f"signed by another key ({key_id[:16]}...), not the one given"
        return None if verifier.verify(data, signature) else "the signature does not hold"

    pr = published_checkpoints.verify_published(ctx.pf.db, published, check)
    first, last = pr.first, pr.last
    assert first is not None and last is not None
    at = last.at.isoformat(timespec="seconds")
    click.echo(
        f"checked {pr.checkpoints} signed checkpoints (#{first.seq}..#{last.seq}) from {path} "
        f"against {pr.records} records of {pr.plans} plans"
    )
    if first.seq != 1:
        click.echo(f"{path} starts at checkpoint #{first.seq}: the ones before are not checked")
    click.echo(f"checkpoint #{last.seq} ({at}) covers {last.records} records in {last.plans} plans")
    click.echo(
        f"records after {at} are not yet covered: "
        f"{pr.uncovered_records} records in {pr.uncovered_plans} plans"
    )
    if pr.unpublished:
        click.echo(
            f"the database has {pr.unpublished} signed checkpoints after #{last.seq} "
            f"that {path} does not have"
        )
    return problems + pr.problems


@audit.command("checkpoint")
@pass_ctx
def audit_checkpoint(ctx: Context) -> None:
    """Anchor every plan's chain head; print the checkpoint hash to keep elsewhere.

    With a signing key (PLANFLOW_AUDIT_KEY) the heads are also signed, the
    signed checkpoint appended to PLANFLOW_CHECKPOINT_FILE, and mailed to
    PLANFLOW_CHECKPOINT_EMAIL by the scheduler's next run.
    """
    pf = ctx.pf
    now = pf.clock.now()
    cp = audit_repo.checkpoint(pf.db, now)
    click.echo(
        f"checkpoint #{cp.id} over {cp.plan_count} plans, {cp.record_count} records: {cp.hash}"
    )
    settings = CheckpointSettings.from_env()
    if settings.key_path is None:
        click.echo(f"not signed: {KEY_ENV} is not set (see 'planflow audit keygen')", err=True)
        return
    signer = load_signer(settings.key_path)
    result = sc.make(pf.db, now, signer, mail=settings.email is not None)
    if result.outcome == "made" and result.signed is not None:
        st = result.signed.statement
        click.echo(
            f"signed checkpoint #{st.seq} over {st.plans} plans, {st.records} records "
            f"({st.changes} changed), key {signer.key_id[:16]}: {st.hash()}"
        )
        if settings.email is not None:
            click.echo(
                f"its e-mail to {settings.email.addr_spec} goes with the scheduler's next run"
            )
    elif result.outcome == "unchanged":
        last = f" #{result.signed.statement.seq}" if result.signed else ""
        click.echo(f"no chain head moved since signed checkpoint{last}: nothing new to sign")
    else:
        click.echo("another process signed a checkpoint at the same moment: it covers these")
    if settings.file is not None:
        _publish(ctx, settings.file, signer.verifier())


def _publish(ctx: Context, path: Path, verifier: Verifier) -> None:
    try:
        appended = publish_to_file(ctx.pf.db, path, verifier)
    except PublishError as exc:
        raise click.ClickException(str(exc)) from None
    except OSError as exc:
        raise click.ClickException(f"cannot write {path}: {exc.strerror}") from None
    click.echo(f"{appended} signed checkpoints appended to {path}")


@audit.command("publish")
@click.option(
    "--file",
    "file",
    type=click.Path(dir_okay=False),
    default=None,
    help="The publish file (default: PLANFLOW_CHECKPOINT_FILE).",
)
@pass_ctx
def audit_publish(ctx: Context, file: str | None) -> None:
    """Append the signed checkpoints a publish file does not have yet, each checked first."""
    settings = CheckpointSettings.from_env()
    path = Path(file) if file else settings.file
    if path is None:
        raise click.UsageError("give --file PATH, or set PLANFLOW_CHECKPOINT_FILE")
    if settings.key_path is None:
        raise click.UsageError(f"{KEY_ENV} is not set: its public key checks what is published")
    _publish(ctx, path, load_signer(settings.key_path).verifier())


@audit.command("keygen")
@click.option(
    "--out",
    type=click.Path(dir_okay=False),
    default=None,
    help=f"Where to write the private key (default: {KEY_ENV}); never overwritten.",
)
def audit_keygen(out: str | None) -> None:
    """Make the key that signs audit checkpoints; print its public key for the auditors."""
    path = Path(out).expanduser() if out else key_path_from_env()
    if path is None:
        raise click.UsageError(
            f"give --out PATH (or set {KEY_ENV}); keep the key off the database's host "
            "and out of its backups"
        )
    signer = generate(path)
    verifier = signer.verifier()
    click.echo(f"private key written to {path} (mode 600); set {KEY_ENV}={path}")
    click.echo(f"public key: {verifier.public_b64}")
    click.echo(f"key id: {verifier.key_id}")
    click.echo(
        "Give the public key to your auditors now, outside planflow: "
        "'planflow audit verify --checkpoints FILE --public-key KEY' checks with it."
    )


@audit.command("export")
@click.option(
    "--format", "fmt", type=click.Choice(["jsonl", "csv"]), default="jsonl", show_default=True
)
@click.option("--plan", "plan_id", type=ID, default=None, help="Only this plan.")
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, writable=True),
    default=None,
    help="File to write (default: standard output).",
)
@pass_ctx
def audit_export(ctx: Context, fmt: str, plan_id: int | None, output: str | None) -> None:
    """Write the trail as JSON lines or CSV."""
    if output is None:
        ctx.pf.export_audit(sys.stdout, fmt, plan_id=plan_id)
        return
    with open(output, "w", encoding="utf-8", newline="") as out:
        count = ctx.pf.export_audit(out, fmt, plan_id=plan_id)
    click.echo(f"{count} records written to {output}", err=True)


@audit.command("org")
@click.option("--json", "as_json", is_flag=True, help="One JSON object a line, with the hashes.")
@click.option("--last", type=click.IntRange(1, 1_000_000), default=None, help="Only the newest N.")
@pass_ctx
def audit_org(ctx: Context, as_json: bool, last: int | None) -> None:
    """The organisation's trail of admin actions: roles, people, units, tokens, webhooks."""
    rows = ctx.pf.org.audit(newest_first=last is not None, limit=last)
    if last is not None:
        rows.reverse()
    for r in rows:
        if as_json:
            click.echo(
                json.dumps(
                    {
                        "seq": r.seq,
                        "at": r.at.isoformat(timespec="microseconds"),
                        "actor": r.actor,
                        "action": r.action,
                        "detail": r.detail,
                        "prev_hash": r.prev_hash,
                        "hash": r.hash,
                    },
                    ensure_ascii=False,
                    sort_keys=True,
                )
            )
            continue
        detail = " ".join(f"{k}={json.dumps(v, ensure_ascii=False)}" for k, v in r.detail.items())
        when = r.at.isoformat(timespec="seconds")
        click.echo(f"{r.seq} {r.action} {when} by {r.actor or '(system)'} {detail}")


COMMANDS = [audit]
