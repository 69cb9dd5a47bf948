"""Realistic Brazilian-Portuguese names for the demo world, drawn deterministically from a seed.

A dashboard demo with "Customer 17" and "Dept 3" hides layout bugs that real names reveal
(accents, long department names), so the simulator uses plausible ones.
"""

from __future__ import annotations

import random
import unicodedata

DEPARTMENT_NAMES = (
    "Suporte Técnico",
    "Financeiro",
    "Vendas",
    "Ouvidoria",
    "Atendimento Geral",
    "Cobrança",
    "Pós-Venda",
    "Retenção",
    "Logística",
    "Cadastro",
    "Faturamento",
    "Suporte Premium",
)

FIRST_NAMES = (
    "Ana", "Bruno", "Camila", "Diego", "Eduarda", "Felipe", "Gabriela", "Henrique", "Isabela",
    "João", "Larissa", "Lucas", "Mariana", "Mateus", "Natália", "Otávio", "Paula", "Rafael",
    "Sofia", "Thiago", "Vitória", "Gustavo", "Letícia", "Pedro", "Beatriz", "Caio", "Fernanda",
    "Rodrigo", "Juliana", "André", "Aline", "Marcelo", "Patrícia", "Renato", "Tatiane", "Vinícius",
)  # fmt: skip

SURNAMES = (
    "Silva", "Santos", "Oliveira", "Souza", "Rodrigues", "Ferreira", "Alves", "Pereira", "Lima",
    "Gomes", "Costa", "Ribeiro", "Martins", "Carvalho", "Almeida", "Lopes", "Soares", "Fernandes",
    "Vieira", "Barbosa", "Rocha", "Dias", "Nascimento", "Andrade", "Moreira", "Nunes", "Marques",
    "Machado", "Mendes", "Freitas", "Cardoso", "Ramos", "Gonçalves", "Teixeira", "Araújo",
)  # fmt: skip

REASONS = (
    "Segunda via de boleto",
    "Problema de acesso à conta",
    "Dúvida sobre a fatura",
    "Troca de produto",
    "Cancelamento de contrato",
    "Atualização cadastral",
    "Reclamação sobre atendimento",
    "Informações sobre entrega",
    "Instalação do equipamento",
    "Negociação de débito",
    "Contratação de plano",
    "Reembolso",
)

NOTIFICATION_TITLES = (
    ("Nova mensagem da supervisão", "Reunião rápida às 15h na sala 2.", "message"),
    ("Fila acima do limite", "O tempo de espera passou do máximo configurado.", "queue_alert"),
    ("Avaliação recebida", "Um cliente avaliou seu último atendimento.", "rating"),
    ("Atualização do sistema", "Uma nova versão do painel foi publicada.", "system"),
)


def ascii_slug(text: str, sep: str = "-") -> str:
    """``"Suporte Técnico"`` -> ``"suporte-tecnico"``: identifiers and e-mail local parts."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    words = "".join(ch if ch.isalnum() else " " for ch in plain.lower()).split()
    return sep.join(words)


def department_name(index: int) -> str:
    """The ``index``-th (0-based) department name, numbered once the list runs out."""
    base = DEPARTMENT_NAMES[index % len(DEPARTMENT_NAMES)]
    rounds = index // len(DEPARTMENT_NAMES)
    return base if rounds == 0 else f"{base} {rounds + 1}"


def person_name(rng: random.Random) -> str:
    """A first name and one or two surnames."""
    parts = [rng.choice(FIRST_NAMES), rng.choice(SURNAMES)]
    if rng.random() < 0.3:
        parts.append(rng.choice(SURNAMES))
    return " ".join(parts)


def customer_contact(rng: random.Random, name: str) -> tuple[str, str]:
    """A plausible e-mail and Brazilian mobile number for a customer called ``name``."""
    local = ascii_slug(name, ".")
    domain = rng.choice(("exemplo.com.br", "mail.com", "empresa.com.br"))
    phone = f"+55 {rng.randint(11, 99)} 9{rng.randint(1000, 9999)}-{rng.randint(1000, 9999)}"
    return f"{local}@{domain}", phone
