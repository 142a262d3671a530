"""The ``intakeguard`` console script, run for real in a subprocess."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from datetime import date, timedelta
from importlib import metadata
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from app.auth import authenticate
from app.db.engine import make_engine, session_factory
from app.db.migrate import current_revision, head_revision, upgrade
from app.db.models import Customer, Service, Verdict
from app.decision.service import DecisionService
from app.registry.customers import CustomerData, put_customer, validate
from app.registry.identifiers import IdentifierKind, keyed_hash
from tests.dns_server import FixtureDnsServer
from tests.support import DEFAULT_KINDS as KINDS
from tests.support import FIXTURES, RULES, SECRET_KEY

INTAKEGUARD = Path(sys.executable).parent / "intakeguard"
MAIL = FIXTURES / "mail"
COLUMNS = "login,kind,name,panel_email,pesel,nip,regon,services"
# sysexits.h
EX_USAGE, EX_DATAERR, EX_CONFIG = 64, 65, 78
# The fixture DNS server's address, set for every test by ``_fixture_dns``.
DNS_SERVER: dict[str, str] = {}


@pytest.fixture(autouse=True)
def _fixture_dns(dns_server: FixtureDnsServer) -> None:
    """Commands ask the fixture DNS server on loopback, never this machine's resolver."""
    DNS_SERVER["address"] = dns_server.address


def environment(**settings: str | None) -> dict[str, str]:
    """This process's environment without INTAKEGUARD_*, plus ``settings`` (names unprefixed).

    The rules are the repository's, the log level WARNING and DNS the fixture server
    unless ``settings`` say otherwise; a setting given as None is left unset.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("INTAKEGUARD_")}
    wanted = {
        "rules_dir": str(RULES),
        "log_level": "WARNING",
        "dns_nameservers": DNS_SERVER.get("address"),
        **settings,
    }
    env.update({f"INTAKEGUARD_{k.upper()}": v for k, v in wanted.items() if v is not None})
    return env


def intakeguard(
    *args: str | Path, cwd: Path, timeout: float = 120, **settings: str | None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(INTAKEGUARD), *map(str, args)],
        cwd=cwd,
        env=environment(**settings),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def sqlite_file(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'store' / 'intakeguard.db'}"


def migrated_sqlite_file(tmp_path: Path) -> str:
    url = sqlite_file(tmp_path)
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    return url


def register(sessions: sessionmaker[Session], login: str, email: str, *services: str) -> None:
    """Store a customer directly, as the panel would through the API."""
    customer = validate(
        login, CustomerData(panel_email=email, kind="company", name=login, services=services)
    )
    with sessions.begin() as session:
        put_customer(session, customer, SECRET_KEY.encode())


def one_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    return lines[0]


def write_csv(path: Path, *rows: str) -> Path:
    path.write_text("\n".join([COLUMNS, *rows]) + "\n", encoding="utf-8")
    return path


def make_pesel(born: date, serial: int) -> str:
    """A valid PESEL of someone born on ``born`` (1900-2099)."""
    month = born.month + {1900: 0, 2000: 20}[born.year // 100 * 100]
    body = f"{born.year % 100:02d}{month:02d}{born.day:02d}{serial % 10000:04d}"
    total = sum(int(d) * w for d, w in zip(body, (1, 3, 7, 9, 1, 3, 7, 9, 1, 3), strict=True))
    return body + str((10 - total % 10) % 10)


# --- usage -------------------------------------------------------------------------------

HELP_COMMANDS = [
    [],
    ["serve"],
    ["api"],
    ["db"],
    ["db", "upgrade"],
    ["token"],
    ["token", "create"],
    ["agents"],
    ["agents", "add"],
    ["agents", "list"],
    ["agents", "disable"],
    ["customers"],
    ["customers", "import"],
    ["check"],
    ["rules"],
    ["rules", "check"],
]


def test_help_of_every_command_exits_0(tmp_path: Path) -> None:
    # Started together: each is a fresh interpreter, and they need nothing from each other.
    running = [
        (
            command,
            subprocess.Popen(
                [str(INTAKEGUARD), *command, "--help"],
                cwd=tmp_path,
                env=environment(),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            ),
        )
        for command in HELP_COMMANDS
    ]
    for command, process in running:
        stdout, stderr = process.communicate(timeout=60)
        assert process.returncode == 0, (command, stderr)
        assert stdout.startswith(f"usage: {' '.join(['intakeguard', *command])}"), stdout
    assert not list(tmp_path.iterdir()), "--help must not create anything"


def test_no_command_shows_help_and_exits_64(tmp_path: Path) -> None:
    result = intakeguard(cwd=tmp_path)
    assert result.returncode == EX_USAGE
    assert "usage: intakeguard" in result.stderr
    for command in ("serve", "db", "token", "customers", "check", "rules"):
        assert command in result.stderr


def test_a_command_group_without_its_action_shows_its_own_help(tmp_path: Path) -> None:
    result = intakeguard("db", cwd=tmp_path)
    assert result.returncode == EX_USAGE
    assert result.stderr.startswith("usage: intakeguard db")
    assert "upgrade" in result.stderr


def test_wrong_arguments_exit_64(tmp_path: Path) -> None:
    result = intakeguard("token", "create", "--name", "desk", cwd=tmp_path)
    assert result.returncode == EX_USAGE
    assert "the following arguments are required: --scope" in result.stderr


# --- configuration -----------------------------------------------------------------------


def test_an_invalid_setting_exits_78_with_one_line(tmp_path: Path) -> None:
    result = intakeguard("db", "upgrade", cwd=tmp_path, http_listen="nope")
    assert result.returncode == EX_CONFIG
    assert one_line(result.stderr) == (
        "intakeguard: configuration error: INTAKEGUARD_HTTP_LISTEN: 'nope' is not host:port"
    )
    assert not (tmp_path / "var").exists()


def test_an_invalid_log_level_exits_78_not_a_traceback(tmp_path: Path) -> None:
    result = intakeguard("rules", "check", cwd=tmp_path, log_level="LOUD")
    assert result.returncode == EX_CONFIG
    assert "INTAKEGUARD_LOG_LEVEL" in one_line(result.stderr)


def test_a_bad_config_file_exits_78(tmp_path: Path) -> None:
    config = tmp_path / "intakeguard.toml"
    config.write_text("database_url = \n")
    result = intakeguard("--config", config, "db", "upgrade", cwd=tmp_path)
    assert result.returncode == EX_CONFIG
    assert "invalid TOML" in one_line(result.stderr)


def test_settings_come_from_the_config_file_named_by_the_environment(
    tmp_path: Path, repo_rules: Path
) -> None:
    config = tmp_path / "intakeguard.toml"
    config.write_text(f"rules_dir = {json.dumps(str(repo_rules))}\n")
    result = intakeguard("rules", "check", cwd=tmp_path, config=str(config), rules_dir=None)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"rules {repo_rules} are valid")


def test_version_is_the_installed_distributions(tmp_path: Path) -> None:
    result = intakeguard("--version", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"intakeguard {metadata.version('intakeguard')}\n"


# --- rules -------------------------------------------------------------------------------


def test_rules_check_prints_the_kinds(tmp_path: Path) -> None:
    result = intakeguard("rules", "check", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert f"rules {RULES} are valid, version sha256:" in result.stdout
    for kind in KINDS:
        assert f"  {kind} " in result.stdout
    assert "holder_change      needs signed documents by post" in result.stdout
    assert "finding from-mailbox.fail" in result.stdout


def test_rules_check_says_which_directory_it_read(tmp_path: Path, repo_rules: Path) -> None:
    # Without INTAKEGUARD_RULES_DIR: the default catalogue (in a checkout, rules/ itself;
    # a wheel's copy of it is tested in tests/test_packaging.py), whatever the directory.
    default = intakeguard("rules", "check", cwd=tmp_path, rules_dir=None)
    assert default.returncode == 0, default.stderr
    first = default.stdout.splitlines()[0]
    assert first.startswith(f"rules {RULES} are valid, version sha256:"), first
    assert first.endswith(
        "; the default catalogue shipped in the package (INTAKEGUARD_RULES_DIR not set)"
    ), first
    # repo_rules is a rules/ in the working directory, which the default leaves unread.
    assert one_line(default.stderr) == (
        f"intakeguard: warning: {repo_rules} is not read: without INTAKEGUARD_RULES_DIR "
        "the default catalogue is; set INTAKEGUARD_RULES_DIR=rules to use that directory"
    )
    explicit = intakeguard("rules", "check", cwd=tmp_path, rules_dir=str(repo_rules))
    assert explicit.returncode == 0, explicit.stderr
    assert explicit.stdout.startswith(f"rules {repo_rules} are valid, version sha256:")
    assert "; set by INTAKEGUARD_RULES_DIR" in explicit.stdout.splitlines()[0]
    assert explicit.stderr == ""
    named = intakeguard("rules", "check", repo_rules, cwd=tmp_path)
    assert named.stdout.splitlines()[0].endswith("; named on the command line")


def test_rules_check_lists_every_check_result_and_what_it_leads_to(tmp_path: Path) -> None:
    result = intakeguard("rules", "check", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = [line.strip() for line in result.stdout.splitlines()]
    assert "check dmarc: header From domain authenticated by aligned SPF or DKIM" in lines
    consequence = {
        line.split()[1]: line.split("-> ", 1)[1] for line in lines if line.startswith("finding ")
    }
    assert consequence["dmarc.reject"] == "reject"
    assert consequence["dmarc.pass"] == "ignore (not listed)"
    assert consequence["dmarc.temperror"].startswith("retry (a temporary failure")
    assert consequence["dmarc.error"] == (
        "review (not listed; never weaker than review, as the check could not complete, "
        "so it vouches for nothing)"
    )
    assert consequence["instruction-kind.none"].startswith("review")
    assert consequence["service-scope.mixed"].startswith("review")
    assert consequence["customer-match.fail"] == "reject"
    assert "unrecognised request -> review" in lines


def test_output_into_a_reader_that_stopped_early_is_no_traceback(tmp_path: Path) -> None:
    # "intakeguard rules check | head -0": the reader is gone before anything is written.
    reader, writer = os.pipe()
    os.close(reader)
    with subprocess.Popen(
        [str(INTAKEGUARD), "rules", "check"],
        cwd=tmp_path,
        env=environment(),
        stdout=writer,
        stderr=subprocess.PIPE,
        text=True,
    ) as process:
        os.close(writer)
        _, errors = process.communicate(timeout=60)
    assert process.returncode == 74, errors
    assert "Traceback" not in errors


def test_rules_check_refuses_a_broken_directory_with_exit_78(
    tmp_path: Path, repo_rules: Path
) -> None:
    policy = repo_rules / "policy.toml"
    policy.write_text(policy.read_text().replace('= "reject"', '= "drop"', 1))
    result = intakeguard("rules", "check", repo_rules, cwd=tmp_path)
    assert result.returncode == EX_CONFIG
    line = one_line(result.stderr)
    assert str(policy) in line
    assert "'drop' is not one of reject, review, ignore" in line


# --- database and tokens -----------------------------------------------------------------


def test_db_upgrade_creates_a_fresh_sqlite_store(tmp_path: Path) -> None:
    url = sqlite_file(tmp_path)
    first = intakeguard("db", "upgrade", cwd=tmp_path, database_url=url)
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("database at revision ")
    assert (tmp_path / "store" / "intakeguard.db").is_file()
    engine = make_engine(url)
    try:
        assert current_revision(engine) == head_revision()
        assert first.stdout == f"database at revision {head_revision()}\n"
    finally:
        engine.dispose()


def test_token_create_prints_a_token_that_authenticates(tmp_path: Path) -> None:
    url = sqlite_file(tmp_path)
    result = intakeguard(
        "token", "create", "--name", "desk", "--scope", "intake", "verdicts:read",
        cwd=tmp_path, database_url=url,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    token = result.stdout.strip()
    assert "\n" not in token
    assert "not shown again" in result.stderr
    engine = make_engine(url)
    try:
        with session_factory(engine)() as session:
            principal = authenticate(session, token, admin_token=None)
            assert principal is not None
            assert principal.name == "desk"
            assert principal.scopes == {"intake", "verdicts:read"}
            assert authenticate(session, token + "x", admin_token=None) is None
    finally:
        engine.dispose()


def test_token_create_with_an_unknown_scope_exits_65(tmp_path: Path) -> None:
    result = intakeguard(
        "token", "create", "--name", "desk", "--scope", "intake", "everything",
        cwd=tmp_path, database_url=sqlite_file(tmp_path),
    )  # fmt: skip
    assert result.returncode == EX_DATAERR
    assert result.stdout == ""
    assert "unknown scope 'everything'; scopes are: intake, verdicts:read" in result.stderr


# --- customers import --------------------------------------------------------------------


def test_customers_import_without_a_secret_key_exits_78(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "customers.csv", "acme,company,ACME,jan@acme.pl,,,,acme.pl")
    result = intakeguard(
        "customers", "import", path, cwd=tmp_path, database_url=sqlite_file(tmp_path)
    )
    assert result.returncode == EX_CONFIG
    line = one_line(result.stderr)
    assert line.startswith("intakeguard: configuration error: INTAKEGUARD_SECRET_KEY: missing")


def stored(service: DecisionService) -> dict[str, list[str]]:
    """Every stored customer's login → its services (A-labels)."""
    with service.sessions() as session:
        customers = session.scalars(select(Customer)).all()
        return {c.login: sorted(s.name_ascii for s in c.services) for c in customers}


def import_csv(path: Path, database_url: str) -> subprocess.CompletedProcess[str]:
    return intakeguard(
        "customers", "import", path.name,
        cwd=path.parent, database_url=database_url, secret_key=SECRET_KEY,
    )  # fmt: skip


def test_customers_import_of_a_good_file(
    tmp_path: Path, database_url: str, service: DecisionService
) -> None:
    path = write_csv(
        tmp_path / "customers.csv",
        "acme,company,ACME sp. z o.o.,Jan@ACME.pl,,526-025-02-74,,acme.pl;żółw.pl",
        "anna_k,person,Anna Kowalska,anna@kowalska.example,44051401359,,,kowalska.pl vps-12345",
        '"globex",company,"Globex, S.A.",biuro@globex.example,,,123456785,',
    )
    result = import_csv(path, database_url)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "imported 3 customers (3 new, 0 updated)"
    assert stored(service) == {
        "acme": ["acme.pl", "xn--w-uga1v8h.pl"],
        "anna_k": ["kowalska.pl", "vps-12345"],
        "globex": [],
    }
    with service.sessions() as session:
        acme = session.scalars(select(Customer).where(Customer.login == "acme")).one()
        assert acme.panel_email == "jan@acme.pl"
        assert acme.nip_masked == "*******274"
        key = SECRET_KEY.encode()
        assert acme.nip_hash == keyed_hash(key, IdentifierKind.NIP, "5260250274")
        assert {s.name_unicode for s in acme.services} == {"acme.pl", "żółw.pl"}
        globex = session.scalars(select(Customer).where(Customer.login == "globex")).one()
        assert globex.name == "Globex, S.A."
        assert globex.regon_masked == "******785"


def test_customers_import_with_bad_rows_reports_each_and_imports_nothing(
    tmp_path: Path, database_url: str, service: DecisionService
) -> None:
    path = write_csv(
        tmp_path / "bad.csv",
        "acme,company,ACME sp. z o.o.,jan@acme.pl,,5260250274,,acme.pl",  # line 2, fine
        "bob,person,Bob Nowak,bob-at-example.com,,,,bob.pl",  # line 3: e-mail
        "carol,person,Carol Lis,carol@example.com,,,,carol.pl",  # line 4, fine
        "dave,person,Dawid Wiśniewski,dave@example.com,44051401358,,,dave.pl",  # line 5: PESEL
        "acme,company,ACME again,biuro@acme.pl,,,,acme.eu",  # line 6: login again
        "erin,person,Erin Zając,erin@example.com,,,,erin.pl;ACME.PL",  # line 7: acme.pl again
    )
    result = import_csv(path, database_url)
    assert result.returncode == EX_DATAERR
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith("bad.csv: line 3: panel_email: ")
    assert lines[1] == "bad.csv: line 5: pesel: the number is not valid (wrong length or checksum)"
    assert lines[2] == "bad.csv: line 6: login 'acme' already on line 2"
    assert lines[3] == "bad.csv: line 7: service acme.pl already given to 'acme' on line 2"
    assert lines[4] == "bad.csv: 4 problem(s); nothing was imported"
    assert len(lines) == 5
    assert stored(service) == {}


def test_customers_import_of_5000_rows_shows_progress(
    tmp_path: Path, database_url: str, service: DecisionService
) -> None:
    path = tmp_path / "many.csv"
    born = date(1950, 1, 1)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS.split(","))
        for n in range(5000):
            pesel = make_pesel(born + timedelta(days=n), n)
            writer.writerow(
                [f"user{n:04d}", "person", f"Użytkownik {n}", f"user{n}@example.com",
                 pesel, "", "", f"user{n}.pl;vps-{10000 + n}"]
            )  # fmt: skip
    result = import_csv(path, database_url)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "imported 5000 customers (5000 new, 0 updated)"
    assert "validated 5000/5000 rows (100%)" in result.stderr
    assert "imported 5000/5000 rows (100%)" in result.stderr
    with service.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Customer)) == 5000
        assert session.scalar(select(func.count()).select_from(Service)) == 10000
        last = session.scalars(select(Customer).where(Customer.login == "user4999")).one()
        assert last.pesel_masked is not None
        assert sorted(s.name_ascii for s in last.services) == ["user4999.pl", "vps-14999"]


def test_customers_import_refuses_a_service_held_by_a_customer_not_in_the_file(
    tmp_path: Path, database_url: str, service: DecisionService
) -> None:
    register(service.sessions, "holder", "owner@holder.example", "acme.pl")
    path = write_csv(
        tmp_path / "conflict.csv",
        "newbie,person,Nowy Klient,new@example.com,,,,newbie.pl",
        "acme,company,ACME sp. z o.o.,jan@acme.pl,,,,acme.pl",
    )
    result = import_csv(path, database_url)
    assert result.returncode == EX_DATAERR
    assert result.stderr.strip().splitlines() == [
        "conflict.csv: service acme.pl (for 'acme') already belongs to customer 'holder', "
        "who is not in this file; remove it there first",
        "conflict.csv: 1 problem(s); nothing was imported",
    ]
    assert stored(service) == {"holder": ["acme.pl"]}


def test_customers_import_moves_a_service_between_customers_of_the_file(tmp_path: Path) -> None:
    # Backend-neutral SQL; the bulk path it shares with a fresh import runs on both above.
    url = migrated_sqlite_file(tmp_path)
    engine = make_engine(url)
    sessions = session_factory(engine)
    register(sessions, "acme", "jan@acme.pl", "acme.pl", "acme.eu")
    register(sessions, "globex", "biuro@globex.example", "globex.pl")
    path = write_csv(
        tmp_path / "second.csv",
        "acme,company,ACME,jan@acme.pl,,,,acme.pl",
        "globex,company,Globex,biuro@globex.example,,,,globex.pl;acme.eu",
        "initech,company,Initech,it@initech.example,,,,initech.pl",
    )
    result = import_csv(path, url)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "imported 3 customers (1 new, 2 updated)"
    try:
        with sessions() as session:
            customers = session.scalars(select(Customer)).all()
            held = {c.login: sorted(s.name_ascii for s in c.services) for c in customers}
    finally:
        engine.dispose()
    assert held == {
        "acme": ["acme.pl"],
        "globex": ["acme.eu", "globex.pl"],
        "initech": ["initech.pl"],
    }


def test_customers_import_of_a_file_that_is_not_there_exits_65(tmp_path: Path) -> None:
    result = intakeguard(
        "customers", "import", "absent.csv",
        cwd=tmp_path, database_url=sqlite_file(tmp_path), secret_key=SECRET_KEY,
    )  # fmt: skip
    assert result.returncode == EX_DATAERR
    assert "absent.csv: cannot be read (No such file or directory)" in result.stderr


# --- check -------------------------------------------------------------------------------


def test_check_prints_a_readable_table(tmp_path: Path) -> None:
    result = intakeguard(
        "check", MAIL / "display-name-holds-other-address.eml",
        cwd=tmp_path, database_url=sqlite_file(tmp_path),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    # The display name shows jan@acme.pl while the sender is mallory@evil.example.
    assert lines[0].split() == ["decision", "rejected"]
    assert lines[1].split() == ["assurance", "none"]
    assert lines[2].split() == ["customer", "-"]
    assert lines[3].split() == ["asks", "for", "transfer_out"]
    assert any(
        line.split(None, 2) == ["from-mailbox", "pass", "The message is from mallory@evil.example."]
        for line in lines
    ), result.stdout
    assert "why:" in lines


def test_check_json_against_the_registry_records_nothing(tmp_path: Path) -> None:
    url = migrated_sqlite_file(tmp_path)
    engine = make_engine(url)
    register(session_factory(engine), "acme", "jan@acme.pl", "acme.pl")
    result = intakeguard(
        "check", MAIL / "display-name-holds-other-address.eml", "--json",
        "--client-ip", "192.0.2.7", "--helo", "mx.evil.example",
        "--mail-from", "mallory@evil.example",
        cwd=tmp_path, database_url=url,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    verdict = json.loads(result.stdout)
    assert verdict["decision"] == "rejected"
    assert verdict["customer"] == "acme"
    assert verdict["message_id"] == "<display-name-holds-other-address@evil.example>"
    assert verdict["instruction"] == {"kinds": ["transfer_out"], "services": ["acme.pl"]}
    checks = {c["name"]: c for c in verdict["checks"]}
    assert checks["from-mailbox"]["result"] == "pass"
    assert checks["customer-match"]["result"] == "fail"
    assert "mallory@evil.example" in checks["customer-match"]["reason"]
    try:
        with session_factory(engine)() as session:
            assert session.scalar(select(func.count()).select_from(Verdict)) == 0
    finally:
        engine.dispose()


def test_check_believes_authentication_results_only_of_a_relayed_message(
    tmp_path: Path,
) -> None:
    def upstream(*flags: str) -> str:
        result = intakeguard(
            "check", MAIL / "trusted-authentication-results.eml", "--json", *flags,
            cwd=tmp_path, database_url=sqlite_file(tmp_path),
            trusted_authserv_ids="mx.hosting.example",
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        checks = json.loads(result.stdout)["checks"]
        return str(next(c["result"] for c in checks if c["name"] == "upstream-results"))

    # A saved file may come from anywhere; --relayed says it came through our relay.
    assert upstream() == "forged"
    assert upstream("--relayed") == "pass"


def test_check_under_dns_trouble_shows_no_decision(tmp_path: Path) -> None:
    # Nothing answers on this loopback port: every lookup times out.
    result = intakeguard(
        "check", MAIL / "display-name-holds-other-address.eml", "--json",
        cwd=tmp_path, database_url=sqlite_file(tmp_path),
        dns_nameservers="127.0.0.1:9", dns_timeout="0.2",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    verdict = json.loads(result.stdout)
    # What intake would do: retry later, neither accept nor reject.
    assert verdict["decision"] is None
    checks = {c["name"]: c for c in verdict["checks"]}
    assert checks["dmarc"]["result"] == "temperror"
    assert verdict["reasons"] == [checks["dmarc"]["reason"]]


def test_check_of_a_missing_file_exits_65(tmp_path: Path) -> None:
    result = intakeguard("check", "absent.eml", cwd=tmp_path, database_url=sqlite_file(tmp_path))
    assert result.returncode == EX_DATAERR
    assert one_line(result.stderr) == (
        "intakeguard: absent.eml: cannot be read (No such file or directory)"
    )


def test_check_of_something_that_is_no_message_exits_65(tmp_path: Path) -> None:
    path = tmp_path / "notes.eml"
    path.write_text("Just some notes\nwithout any headers\n")
    result = intakeguard("check", path, cwd=tmp_path, database_url=sqlite_file(tmp_path))
    assert result.returncode == EX_DATAERR
    assert "no RFC 5322 header section" in result.stderr
