"""What the README names exists: every `relevo ...` command and its options, every HTTP endpoint, the set-up files."""

from __future__ import annotations

import re
import shlex
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest
import typer

from relevo.cli.main import app as cli_app
from relevo.settings import Settings
from relevo.store import upgrade
from tests.api.conftest import running_api

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
GUIDES = [REPO / "docs" / "deployment.md"]  # held to the same checks of commands, options, endpoints, settings
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


@dataclass(frozen=True)
class Mention:
    text: str  # as the README writes it (whitespace collapsed)
    line: int  # where it starts in README.md
    shell: bool  # in a shell code block (else inline code)


def _readme(path: Path = README) -> tuple[list[tuple[str, int, list[str]]], list[Mention]]:
    """The fenced code blocks (info string, first line, lines) and the inline code spans of README.md (or path)."""
    blocks: list[tuple[str, int, list[str]]] = []
    prose: list[tuple[int, str]] = []
    fence: tuple[str, int, list[str]] | None = None
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.startswith("```"):
            if fence is None:
                fence = (line[3:].strip(), number + 1, [])
            else:
                blocks.append(fence)
                fence = None
        elif fence is not None:
            fence[2].append(line)
        else:
            prose.append((number, line))
    assert fence is None, f"{path.name}: the code block opened on line {fence[1] - 1} is not closed"
    spans: list[Mention] = []
    # A span may run across a line break inside a paragraph, never across a blank line.
    text = "\n".join(line for _, line in prose)
    starts = [number for number, _ in prose]
    for match in re.finditer(r"`([^`]+)`", text):
        body = match.group(1)
        assert not re.search(r"\n\s*\n", body), f"{path.name}: unbalanced backtick near {body[:60]!r}"
        line = starts[text.count("\n", 0, match.start())]
        spans.append(Mention(" ".join(body.replace("\\|", "|").split()), line, shell=False))
    return blocks, spans


def _shell_commands(lines: list[str], first_line: int) -> list[tuple[list[str], int]]:
    """Each simple command of a shell block, as words (quotes removed, comments and redirections dropped)."""
    commands = []
    for offset, line in enumerate(lines):
        lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        words: list[str] = []
        redirected = False
        for token in [*lexer, ";"]:
            if token in ("&&", "||", ";", "|", "&"):
                if words:
                    commands.append((words, first_line + offset))
                words = []
            elif token in (">", ">>", "<"):
                redirected = True  # the next word is a file, not an argument
            elif redirected:
                redirected = False
            else:
                words.append(token)
    return commands


def _mentions(path: Path = README) -> tuple[list[Mention], list[Mention], list[Mention], list[tuple[list[str], int]]]:
    """README's (or path's) `relevo` command lines, its endpoints, its bare options, and its shell commands."""
    blocks, spans = _readme(path)
    commands, endpoints, options = [], [], []
    shell: list[tuple[list[str], int]] = []
    for info, first_line, lines in blocks:
        if info in ("bash", "sh", "shell", "console"):
            shell += _shell_commands(lines, first_line)
    for words, line in shell:
        if words[0] == "relevo":
            commands.append(Mention(" ".join(words), line, shell=True))
        elif words[0] == "curl":  # of the API served on this machine
            for url in [w for w in words if re.match(r"(https?://)?(localhost|127\.0\.0\.1):\d+/", w)]:
                method = words[words.index("-X") + 1] if "-X" in words else "GET"
                path = url.split("/", 3 if "://" in url else 1)[-1]
                endpoints.append(Mention(f"{method} /{path}", line, shell=True))
    groups = {name for name, command in _click_app().commands.items() if hasattr(command, "commands")}
    for span in spans:
        if span.text == "relevo" or span.text.startswith("relevo "):
            commands.append(span)
        elif len(span.text.split()) > 1 and span.text.split()[0] in groups:
            # A command named without its `relevo` (`rollout start --spec`, `service apply`).
            commands.append(Mention(f"relevo {span.text}", span.line, shell=False))
        elif re.fullmatch(rf"(({'|'.join(METHODS)}) )?/\S*", span.text):
            # Paths of relevo's API; `{url}/v2/...` (a remote model's protocol) does not start with "/".
            endpoints.append(span)
        elif span.text.startswith("--"):  # (`-n 0` is pytest's)
            options.append(span)
    return commands, endpoints, options, shell


def _click_app():
    return typer.main.get_command(cli_app)


def _options(command) -> dict[str, object]:
    return {name: p for p in command.params if p.param_type_name == "option" for name in (*p.opts, *p.secondary_opts)}


def _takes_value(option) -> bool:
    return not (option.is_flag or option.count)


def check_command(text: str) -> list[str]:
    """What is wrong with one `relevo ...` command line of the README: unknown commands, options, extra arguments."""
    # Usage notation: [optional], a repeated option's trailing …, alternatives a|b; `…` or `...` alone is a value.
    words = re.sub(r"\](…|\.\.\.)", "]", text).replace("[", " ").replace("]", " ").split()
    assert words[0] == "relevo", text
    words = [part for word in words[1:] for part in (word.split("=", 1) if word.startswith("--") else [word])]
    paths = [["relevo"]]
    commands = [_click_app()]
    problems = []
    i = 0
    # Down the groups: their options, then a subcommand (each of a|b|c must be one).
    while hasattr(commands[0], "commands") and i < len(words):
        word = words[i]
        if word.startswith("-"):
            option = _options(commands[0]).get(word)
            if option is None:
                problems.append(f"`{' '.join(paths[0])}` has no option {word}")
            i += 2 if option is not None and _takes_value(option) else 1
            continue
        found = [(name, commands[0].commands.get(name)) for name in word.split("|")]
        missing = [name for name, sub in found if sub is None]
        if missing:
            problems.append(f"`{' '.join(paths[0])}` has no command {' or '.join(missing)} "
                            f"(it has: {', '.join(sorted(commands[0].commands))})")
            return problems
        paths = [paths[0] + [name] for name, _ in found]
        commands = [sub for _, sub in found]
        i += 1
    rest = words[i:]
    for path, command in zip(paths, commands, strict=True):
        if hasattr(command, "commands") and rest:
            problems.append(f"`{' '.join(path)}` is a group: {rest[0]} is none of its commands")
            continue
        options, positional, unknown, j = _options(command), [], [], 0
        while j < len(rest):
            word = rest[j]
            if word.startswith("-"):
                option = options.get(word)
                if option is None:
                    unknown.append(word)
                    problems.append(f"`{' '.join(path)}` has no option {word} (it has: {', '.join(sorted(options))})")
                j += 2 if option is not None and _takes_value(option) else 1
            else:
                positional.append(word)
                j += 1
        arguments = [p for p in command.params if p.param_type_name == "argument"]
        # (After an unknown option, whether the next word is its value or an argument cannot be told.)
        if not unknown and not any(p.nargs < 0 for p in arguments) and len(positional) > sum(p.nargs for p in arguments):
            names = " ".join(str(p.name).upper() for p in arguments) or "none"
            problems.append(f"`{' '.join(path)}` takes {len(arguments)} argument(s) ({names}), "
                            f"the README gives {len(positional)}: {' '.join(positional)}")
    return problems


def test_every_relevo_command_the_readme_names_exists():
    commands, _, options, _ = _mentions()
    problems = [f"README.md:{m.line}: {m.text}\n    {p}" for m in commands for p in check_command(m.text)]
    # An option named alone (`--no-controller`, `--json`) belongs to some command.
    every = {name for command in _all_commands(_click_app()) for name in _options(command)}
    problems += [f"README.md:{m.line}: {m.text}\n    no relevo command has the option {m.text.split()[0]}"
                 for m in options if m.text.split()[0] not in every]
    assert not problems, "The README names commands or options the CLI does not have:\n" + "\n".join(problems)
    # The parser saw the README: the demo's "Then try" block, the commands table, the prose.
    texts = {m.text for m in commands}
    assert len(commands) >= 40 and "relevo rollout status licence-prefilter --id 2" in texts \
        and "relevo rollout pause|resume|extend|abort|rollback ID" in texts and "relevo service apply SPEC.yaml" in texts \
        and "relevo rollout start --spec" in texts and len(options) >= 10


def _all_commands(command):
    yield command
    for sub in getattr(command, "commands", {}).values():
        yield from _all_commands(sub)


def test_a_typo_in_a_command_is_caught():
    assert check_command("relevo rollout status licence-prefilter --id 2") == []
    assert check_command("relevo rollout pause|resume|extend|abort|rollback ID") == []
    assert check_command("relevo register SERVICE PATH --metadata FILE [--tag T]… [--reference-data CSV|PARQUET]") == []
    assert check_command("relevo rolout status licence-prefilter")
    assert check_command("relevo rollout pause|resme ID")
    assert check_command("relevo rollout status licence-prefilter --idd 2")
    assert check_command("relevo rollout status licence-prefilter 2")  # one argument too many: --id forgotten
    assert check_command("relevo --hom H versions")


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    """The API as tests/api/conftest.py builds it, over an empty store."""
    home = tmp_path_factory.mktemp("readme")
    settings = Settings(home=home / "home", database_url=f"sqlite:///{home / 'relevo.db'}", actor="tester")
    upgrade(settings.resolved_database_url())
    with running_api(settings) as served:
        yield served.app


def _template(path: str) -> str:
    return re.sub(r"\{[^}]*\}", "{}", path)


def test_every_endpoint_the_readme_names_is_served(api):
    _, endpoints, _, _ = _mentions()
    problems = _unserved(api, endpoints, "README.md")
    assert not problems, "The README names endpoints the API does not serve:\n" + "\n".join(problems)
    # The parser saw the README: the endpoints table, the curl examples.
    assert len(endpoints) >= 15 and {"POST /v1/services/{service}/decisions", "/metrics",
                                     "POST /v1/services/licence-prefilter/decisions"} <= {m.text for m in endpoints}


def _unserved(api, endpoints: list[Mention], name: str) -> list[str]:
    """What is wrong with each endpoint a document names: no such route, method or query parameter."""
    schema = api.openapi()["paths"]
    # Routers mounted with include_router are listed by the OpenAPI document; the docs pages are plain routes.
    routes = [(path, {m.upper() for m in item}) for path, item in schema.items()]
    routes += [(route.path, getattr(route, "methods", None) or set()) for route in api.routes if hasattr(route, "path")]
    problems = []
    for mention in endpoints:
        method, _, target = mention.text.rpartition(" ")
        path, _, query = re.sub(r"[\[\]]", "", target).partition("?")
        if mention.shell:  # a concrete URL: matched against the routes' templates
            served = [(p, m) for p, m in routes if re.fullmatch(re.sub(r"\\\{[^}]*\\\}", "[^/]+", re.escape(p)), path)]
        else:  # a template: parameter names are the README's own, the shape must be the route's
            served = [(p, m) for p, m in routes if _template(p) == _template(path)]
        if not served:
            problems.append(f"{name}:{mention.line}: {mention.text}: no route {path}")
            continue
        if method and not any(method in m for _, m in served):
            problems.append(f"{name}:{mention.line}: {mention.text}: {path} answers "
                            f"{', '.join(sorted(set().union(*(m for _, m in served))))}, not {method}")
        for query_name in re.findall(r"([A-Za-z_][\w-]*)=", query):
            operations = [op for p, _ in served for op in schema.get(p, {}).values()]
            names = {q["name"] for op in operations for q in op.get("parameters", []) if q["in"] == "query"}
            if query_name not in names:
                problems.append(f"{name}:{mention.line}: {mention.text}: {path} has no query parameter {query_name}")
    return problems


def test_the_set_up_commands_name_what_exists():
    blocks, _ = _readme()
    _, _, _, shell = _mentions()
    extras = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]["optional-dependencies"]
    problems, named = [], set()
    for words, line in shell:
        if words[0] == "pip":
            for flag, value in zip(words, words[1:]):
                if flag in ("-c", "-r"):
                    named.add(value)
                    if not (REPO / value).is_file():
                        problems.append(f"README.md:{line}: pip {flag} {value}: no such file")
                if flag == "-e":
                    project, _, wanted = value.partition("[")
                    if not (REPO / project / "pyproject.toml").is_file():
                        problems.append(f"README.md:{line}: pip -e {value}: no project at {project}")
                    for extra in filter(None, wanted.rstrip("]").split(",")):
                        named.add(f"[{extra}]")
                        if extra not in extras:
                            problems.append(f"README.md:{line}: pip -e {value}: pyproject.toml has no extra {extra}")
        elif "/" in words[0]:  # a script of the repository
            named.add(words[0])
            script = REPO / words[0]
            if not (script.is_file() and script.stat().st_mode & 0o111):
                problems.append(f"README.md:{line}: {words[0]}: no such executable file")
    assert not problems, "\n".join(problems)
    # The first block is the set-up: the lock, the test extra and the MLServer environment.
    first_block = {w for words, _ in _shell_commands(blocks[0][2], blocks[0][1]) for w in words}
    assert {"requirements.lock", "scripts/mlserver-env"} <= first_block & named and "[test]" in named


@pytest.mark.parametrize("guide", GUIDES, ids=lambda path: path.name)
def test_every_command_and_endpoint_a_guide_names_exists(api, guide):
    commands, endpoints, options, _ = _mentions(guide)
    name = guide.relative_to(REPO).as_posix()
    problems = [f"{name}:{m.line}: {m.text}\n    {p}" for m in commands for p in check_command(m.text)]
    every = {option for command in _all_commands(_click_app()) for option in _options(command)}
    problems += [f"{name}:{m.line}: {m.text}\n    no relevo command has the option {m.text.split()[0]}"
                 for m in options if m.text.split()[0] not in every]
    # A guide names files too (/etc/relevo/relevo.env): a path under a file system's folders is no endpoint.
    files = re.compile(r"/(etc|var|opt|tmp|usr|srv|backup)(/|$)")
    problems += _unserved(api, [m for m in endpoints if m.shell or not files.match(m.text)], name)
    # Every RELEVO_ variable it names is a setting, or one the CLI reads (RELEVO_URL, RELEVO_TOKEN).
    known = {f"RELEVO_{field.upper()}" for field in Settings.model_fields} | {"RELEVO_URL", "RELEVO_TOKEN"}
    text = guide.read_text(encoding="utf-8")
    problems += [f"{name}: {variable} is no setting" for variable in sorted(set(re.findall(r"\bRELEVO_[A-Z_]*[A-Z]\b", text)) - known)]
    assert not problems, f"{name} names what Relevo does not have:\n" + "\n".join(problems)
    assert len(commands) >= 10 and endpoints  # the parser saw the guide
