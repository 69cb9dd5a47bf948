"""``?``: the keys, and the exact definition, window and threshold of every figure.

A wallboard figure nobody can define is a figure nobody trusts. The definitions here follow
``voki-api.md`` section 6 and ``voki_tui.live.metrics``; the counters show what the feed has
survived (malformed frames, unknown events, reconnects) so "it looks wrong" can be checked.
All text is ours, so it is plain strings; nothing from the server appears here.
"""

from __future__ import annotations

import textwrap
from dataclasses import fields

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from voki_tui.live.state import Counters
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
        "Waiting: customers in the queue now.": "Aguardando: clientes na fila agora.",
        "Longest wait: now minus the oldest queued_at; ▲ from half of max_wait_time, ‼ past it.": (
            "Maior espera: agora menos o queued_at mais antigo; ▲ da metade de max_wait_time, "
            "‼ acima dele."
        ),
        "ASA (average speed of answer): mean wait of the calls assigned in the window.": (
            "TME (tempo médio de espera): espera média das chamadas atribuídas na janela."
        ),
        "Service level: answered within T ÷ (answered + abandoned after T), in the window.": (
            "Nível de serviço: atendidas em até T ÷ (atendidas + abandonadas após T), na janela."
        ),
        "Abandonment: abandoned ÷ (assigned + abandoned), in the window.": (
            "Abandono: abandonadas ÷ (atribuídas + abandonadas), na janela."
        ),
        "Window: the last 60 minutes, rolling. T: per department, 60 s by default.": (
            "Janela: os últimos 60 minutos, móvel. T: por departamento, 60 s por padrão."
        ),
        "Agents: present = any device online; available, in call, away/paused; others verbatim.": (
            "Atendentes: presentes = algum dispositivo online; livres, em chamada, "
            "ausentes/pausa; outros como vieram."
        ),
        "Waiting vs max_queue_size: ▲ from half of it, ‼ when full.": (
            "Aguardando vs max_queue_size: ▲ a partir da metade, ‼ com a fila cheia."
        ),
        "Last hour: the most waiting in each minute, drawn from 0 to max_queue_size.": (
            "Última hora: o máximo aguardando em cada minuto, em escala de 0 a max_queue_size."
        ),
        "New (★): joined less than 30 s ago and seen live.": (
            "Novo (★): entrou há menos de 30 s e foi visto ao vivo."
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
        "dead links found by heartbeat": "conexões mortas detectadas pelo heartbeat",
        "frames of an old join dropped": "quadros de assinatura antiga descartados",
        "repeated events ignored": "eventos repetidos ignorados",
        "joins of finished calls ignored": "entradas de chamadas já encerradas ignoradas",
        "superseded snapshots dropped": "snapshots superados descartados",
        "event buffers overflowed": "buffers de eventos transbordados",
        "history calls, wrong department": "histórico de outro departamento",
        "bad presence fields replaced": "campos de presença inválidos substituídos",
        "unusable REST list items skipped": "itens inutilizáveis de listas REST pulados",
        "token refreshes": "renovações de token",
        "refreshes by another process": "renovações por outro processo",
        "sign-ins from a password source": "logins pela fonte de senha",
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
    "Waiting: customers in the queue now.",
    "Longest wait: now minus the oldest queued_at; ▲ from half of max_wait_time, ‼ past it.",
    "Waiting vs max_queue_size: ▲ from half of it, ‼ when full.",
    "Last hour: the most waiting in each minute, drawn from 0 to max_queue_size.",
    "New (★): joined less than 30 s ago and seen live.",
    "ASA (average speed of answer): mean wait of the calls assigned in the window.",
    "Service level: answered within T ÷ (answered + abandoned after T), in the window.",
    "Abandonment: abandoned ÷ (assigned + abandoned), in the window.",
    "Window: the last 60 minutes, rolling. T: per department, 60 s by default.",
    "Agents: present = any device online; available, in call, away/paused; others verbatim.",
)


def help_text(
    counters: Counters,
    stale_after_s: float,
    toasts_dropped: int = 0,
    notices: tuple[str, ...] = (),
) -> str:
    """The whole help page as plain text (also what the tests check against)."""
    lines = []
    if notices:
        lines += [tr("Notices"), *(f"  ⚠ {clean(notice, 200)}" for notice in notices), ""]
    lines += [tr("Keys")]
    lines += [f"  {key:<8} {tr(what)}" for key, what in KEYS]
    lines += ["", tr("Figures")]
    lines += [f"  • {tr(line)}" for line in FIGURES]
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
    width = max(len(tr(name)) for name, _ in rows)  # labels differ in length per language
    lines += [f"  {tr(name):<{width}} {value:>8}" for name, value in rows]
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
    ) -> None:
        super().__init__()
        translate_bindings(self)
        self.body = help_text(counters, stale_after_s, toasts_dropped, notices)

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-box") as box:
            box.border_title = tr("Help")
            box.border_subtitle = tr("escape or ? closes")
            yield HangingText(self.body, id="help-body")

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)
