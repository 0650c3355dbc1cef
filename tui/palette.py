"""The command palette: every action with the key that runs it beside its title.

Textual's own provider shows a title and a help line only; this one shows the same
commands (LoyalistApp.palette_commands) with their key in dim text after the title, so
the palette also teaches the keys. Search matches the title only, not the key.
"""

from __future__ import annotations

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.content import Content


def with_key(title: Content | str, key: str) -> Content:
    shown = title if isinstance(title, Content) else Content(title)
    return shown.append_text(f"  {key}", "dim") if key else shown


class KeyedCommands(Provider):
    async def discover(self) -> Hits:
        for command in sorted(self.app.palette_commands(self.screen), key=lambda c: c.title):
            if command.discover:
                yield DiscoveryHit(with_key(command.title, command.key), command.callback,
                                   text=command.title, help=command.help)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for command in self.app.palette_commands(self.screen):
            if (score := matcher.match(command.title)) > 0:
                yield Hit(score, with_key(matcher.highlight(command.title), command.key), command.callback,
                          text=command.title, help=command.help)
