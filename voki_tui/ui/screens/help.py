"""``?``: the keys, and the exact definition, window and threshold of every figure.

A wallboard figure nobody can define is a figure nobody trusts. The definitions here follow
``voki-api.md`` section 6 and ``voki_tui.live.metrics``; the counters show what the feed has
survived (malformed frames, unknown events, reconnects) so "it looks wrong" can be checked.
The figure lines are the figure table's (``voki_tui.live.figures``), and each department's
limits are listed with where they came from. Department names are the only text from the
server here, shown through ``clean``; the page is a plain-text ``Static``, never markup.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from dataclasses import fields

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from voki_tui.live import figures
from voki_tui.live.state import Counters, DepartmentView
from voki_tui.resources import styles_dir
from voki_tui.ui.bindings import translate_bindings
from voki_tui.ui.i18n import register, tr
from voki_tui.ui.text import clean

register(
    "pt-BR",
    {
        "Help": "Ajuda",
        "Keys": "Teclas",
        "quit": "sair",
        "departments": "departamentos",
        "wallboard": "painel de parede",
        "presence (agents) of the current department": (
            "presença (atendentes) do departamento atual"
        ),
        "queue of the current department": "fila do departamento atual",
        "filter the list (departments screen); escape leaves the filter": (
            "filtrar a lista (tela de departamentos); escape sai do filtro"
        ),
        "open the highlighted department; once a session has ended: log in": (
            "abrir o departamento destacado; depois que a sessão terminou: entrar"
        ),
        "move in a table (also PgUp, PgDn, Home, End)": (
            "mover-se numa tabela (também PgUp, PgDn, Home, End)"
        ),
        "log out, after a yes (refused on the wallboard and with --read-only)": (
            "sair da conta, após confirmar (recusado no painel e com --read-only)"
        ),
        "this help (escape or ? closes it)": "esta ajuda (escape ou ? fecha)",
        "command palette (open any department, switch theme)": (
            "paleta de comandos (abrir qualquer departamento, trocar tema)"
        ),
        "mark a department (departments screen)": "marcar um departamento (tela de departamentos)",
        "Figures": "Indicadores",
        "Waiting: customers in the queue now; ▲ from half of the queue limit, ‼ when full.": (
            "Aguardando: clientes na fila agora; ▲ a partir da metade do limite da fila, ‼ com "
            "a fila cheia."
        ),
        "Longest wait: now minus the oldest queued_at; ▲ from half of the wait limit, ‼ from "
        "the limit itself.": (
            "Maior espera: agora menos o queued_at mais antigo; ▲ a partir da metade do limite "
            "de espera, ‼ a partir do próprio limite."
        ),
        "ASA (average speed of answer): mean wait of the calls assigned in the window.": (
            "TME (tempo médio de espera): espera média das chamadas atribuídas na janela."
        ),
        "Service level: answered within T ÷ (answered + abandoned after T), in the window; "
        "▲ below its goal.": (
            "Nível de serviço: atendidas em até T ÷ (atendidas + abandonadas após T), na janela; "
            "▲ abaixo da meta."
        ),
        "Abandonment: abandoned ÷ (assigned + abandoned), in the window.": (
            "Abandono: abandonadas ÷ (atribuídas + abandonadas), na janela."
        ),
        "Agents free: available now, of those present; ‼ when someone waits and none is free.": (
            "Livres: disponíveis agora, dos presentes; ‼ quando alguém aguarda e ninguém está "
            "livre."
        ),
        "In call: agents on a call now.": "Em chamada: atendentes numa chamada agora.",
        "Away: agents away or paused now.": "Ausentes: atendentes ausentes ou em pausa agora.",
        "Window: the last 60 minutes, rolling. T: the SL threshold of each department (below).": (
            "Janela: os últimos 60 minutos, móvel. T: o limite de NS de cada departamento (abaixo)."
        ),
        "Last hour: the most waiting in each minute (from the server's history, then live), "
        "drawn from 0 to the queue limit, or to the peak when it has none or went over it.": (
            "Última hora: o máximo aguardando em cada minuto (do histórico do servidor, depois "
            "ao vivo), em escala de 0 ao limite da fila, ou ao pico quando não há limite ou ele "
            "foi ultrapassado."
        ),
        "New (★): joined less than 30 s ago and seen live.": (
            "Novo (★): entrou há menos de 30 s e foi visto ao vivo."
        ),
        "The wallboard keeps a level 5 s after it got better, so a queue at its limit does "
        "not flash.": (
            "O painel mantém um nível por 5 s depois de melhorar, para uma fila no limite não "
            "piscar."
        ),
        "Limits": "Limites",
        "wait limit": "limite de espera",
        "queue limit": "limite da fila",
        "SL threshold T": "limite de NS T",
        "SL goal": "meta de NS",
        "none": "nenhum",
        "config": "configuração",
        "server": "servidor",
        "default": "padrão",
        "Where each limit comes from: the config file's table for the department, the server, "
        "the config file's defaults, the built-in default.": (
            "De onde vem cada limite: a tabela do departamento no arquivo de configuração, o "
            "servidor, os padrões do arquivo de configuração, o padrão embutido."
        ),
        "Freshness": "Atualidade",
        "live: connected, joined and reconciled; figures are current.": (
            "ao vivo: conectado, inscrito e reconciliado; os números são atuais."
        ),
        "Data age: time since the data was last known true (shown when not live).": (
            "Idade dos dados: tempo desde a última vez que os dados eram sabidamente "
            "verdadeiros (mostrada quando não está ao vivo)."
        ),
        "Stale: link down, or not live and older than {n} s: figures stay, dimmed.": (
            "Desatualizado: conexão caída, ou não ao vivo e mais velho que {n} s: os números "
            "ficam, esmaecidos."
        ),
        "Feed counters": "Contadores do feed",
        "Notices": "Avisos",
        "frames received": "quadros recebidos",
        "malformed frames": "quadros malformados",
        "unknown events": "eventos desconhecidos",
        "invalid payloads": "conteúdos inválidos",
        "reconnects": "reconexões",
        "snapshot failures": "falhas de snapshot",
        "frames for topics not joined": "quadros de tópicos não assinados",
        "drift repaired while live": "divergências corrigidas ao vivo",
        "channels joined again": "canais reassinados",
        "internal errors survived": "erros internos superados",
        "implausible server times ignored": "horários implausíveis do servidor ignorados",
        "toasts dropped (rate limit)": "avisos descartados (limite)",
        "escape or ? closes": "escape ou ? fecha",
    },
)

KEYS = (
    ("q", "quit"),
    ("d", "departments"),
    ("u", "queue of the current department"),
    ("p", "presence (agents) of the current department"),
    ("w", "wallboard"),
    ("/", "filter the list (departments screen); escape leaves the filter"),
    ("space", "mark a department (departments screen)"),
    ("enter", "open the highlighted department; once a session has ended: log in"),
    ("↑ ↓", "move in a table (also PgUp, PgDn, Home, End)"),
    ("l", "log out, after a yes (refused on the wallboard and with --read-only)"),
    ("?", "this help (escape or ? closes it)"),
    ("ctrl+p", "command palette (open any department, switch theme)"),
)

FIGURES = (
    *(figure.help for figure in figures.FIGURES),
    "Window: the last 60 minutes, rolling. T: the SL threshold of each department (below).",
    "Last hour: the most waiting in each minute (from the server's history, then live), "
    "drawn from 0 to the queue limit, or to the peak when it has none or went over it.",
    "New (★): joined less than 30 s ago and seen live.",
    "The wallboard keeps a level 5 s after it got better, so a queue at its limit does not flash.",
)
"""Help's definition lines: the figure table's own, then what is not a figure."""


def limit_lines(views: Sequence[DepartmentView]) -> list[str]:
    """``Vendas: wait limit 2:00 (server) · queue limit 10 (server) · …`` per department."""
    lines = []
    for view in views:
        parts = [
            f"{tr(label)} {tr(value) if value == 'none' else value} ({tr(str(origin))})"
            for _key, label, value, origin in figures.limits_of(view)
        ]
        lines.append(f"  • {clean(view.department.name, 40)}: " + " · ".join(parts))
    return lines


def help_text(
    counters: Counters,
    stale_after_s: float,
    toasts_dropped: int = 0,
    notices: tuple[str, ...] = (),
    views: Sequence[DepartmentView] = (),
) -> str:
    """The whole help page as plain text (also what the tests check against)."""
    lines = []
    if notices:
        lines += [tr("Notices"), *(f"  ⚠ {clean(notice, 200)}" for notice in notices), ""]
    lines += [tr("Keys")]
    lines += [f"  {key:<8} {tr(what)}" for key, what in KEYS]
    lines += ["", tr("Figures")]
    lines += [f"  • {tr(line)}" for line in FIGURES]
    if views:
        lines += ["", tr("Limits")]
        lines.append(
            "  "
            + tr(
                "Where each limit comes from: the config file's table for the department, the "
                "server, the config file's defaults, the built-in default."
            )
        )
        lines += limit_lines(views)
    lines += [
        "",
        tr("Freshness"),
        f"  • {tr('live: connected, joined and reconciled; figures are current.')}",
        f"  • {tr('Data age: time since the data was last known true (shown when not live).')}",
        "  • "
        + tr("Stale: link down, or not live and older than {n} s: figures stay, dimmed.").format(
            n=int(stale_after_s)
        ),
        "",
        tr("Feed counters"),
    ]
    rows = [(f.metadata["label"], getattr(counters, f.name)) for f in fields(counters)]
    rows.append(("toasts dropped (rate limit)", toasts_dropped))
    lines += [f"  {tr(name):<32} {value:>8}" for name, value in rows]
    return "\n".join(lines)


def hanging_lines(text: str, width: int) -> list[str]:
    """``text`` wrapped to ``width`` with continuation lines under the item's text.

    A bullet (``  • ``) or key (``  ctrl+p   ``) stays alone in the left margin, so at 80
    columns a long definition reads as one indented block instead of running back to column 0.
    """
    out: list[str] = []
    for line in text.splitlines():
        if len(line) <= width:
            out.append(line)
            continue
        stripped = line.lstrip(" ")
        indent = len(line) - len(stripped)
        if stripped.startswith("• "):
            indent += 2
        elif indent:  # a key line: the description starts after the key's column
            indent += len(stripped) - len(stripped.split(" ", 1)[-1].lstrip(" "))
        hang = " " * indent if indent < width // 2 else ""
        out += textwrap.wrap(line, width, subsequent_indent=hang, break_on_hyphens=False) or [""]
    return out


class HangingText(Static):
    """Plain text re-wrapped with :func:`hanging_lines` whenever its width changes."""

    def __init__(self, text: str, *, id: str | None = None) -> None:
        super().__init__(text, markup=False, id=id)
        self.text = text
        self._width = -1

    def on_resize(self, event: events.Resize) -> None:
        width = event.size.width
        if width > 0 and width != self._width:
            self._width = width
            self.update("\n".join(hanging_lines(self.text, width)))


class HelpScreen(ModalScreen[None]):
    """A scrollable page over whatever was showing; escape or ``?`` closes it."""

    CSS_PATH = str(styles_dir() / "help.tcss")
    BINDINGS = [
        Binding("escape", "dismiss", "Close"),
        Binding("question_mark", "dismiss", show=False),
    ]

    def __init__(
        self,
        counters: Counters,
        stale_after_s: float,
        toasts_dropped: int,
        notices: tuple[str, ...] = (),
        views: Sequence[DepartmentView] = (),
    ) -> None:
        super().__init__()
        translate_bindings(self)
        self.body = help_text(counters, stale_after_s, toasts_dropped, notices, views)

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-box") as box:
            box.border_title = tr("Help")
            box.border_subtitle = tr("escape or ? closes")
            yield HangingText(self.body, id="help-body")

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)
