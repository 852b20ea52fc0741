"""The playbook's Markdown, rendered safely: CommonMark without raw HTML or images, links only
to web and mail addresses, each marked ``rel="nofollow noopener"``."""

import re

from markdown_it import MarkdownIt
from markupsafe import Markup

# A link's address may name only these schemes; one without a scheme stays on Cadenza.
SAFE_SCHEMES = ("http", "https", "mailto")
_SCHEME = re.compile(r"^([^:/?#]*):")
# Browsers drop these anywhere in an address ("java\tscript:" is "javascript:"): so do we,
# before reading its scheme.
_IGNORED = re.compile(r"[\x00-\x20\x7f]")
# Every page showing the guidelines has its h1 and an h2 above them: their headings start at h3.
HEADING_LEVEL = 3


def safe_link(url: str) -> bool:
    """Whether a link's address is one a reader may follow: http(s), mailto or relative."""
    found = _SCHEME.match(_IGNORED.sub("", url))
    return found is None or found.group(1).lower() in SAFE_SCHEMES


def _parser() -> MarkdownIt:
    # "html": False makes raw HTML (blocks and inline) text, shown escaped.
    parser = MarkdownIt("commonmark", {"html": False, "typographer": False})
    parser.disable("image")  # an image would load from anywhere whenever the page is read
    parser.validateLink = safe_link

    def shape(state) -> None:
        levels = [int(t.tag[1]) for t in state.tokens if t.type == "heading_open"]
        top, last = min(levels, default=1), HEADING_LEVEL - 1
        for token in state.tokens:
            if token.type == "heading_open":
                # The writer's top level becomes h3, and no heading skips a level.
                last = min(HEADING_LEVEL + int(token.tag[1]) - top, last + 1, 6)
            if token.type in ("heading_open", "heading_close"):
                token.tag = f"h{last}"
            if token.type == "fence":
                token.info = ""  # no class attribute made from the writer's text

    parser.core.ruler.push("shape", shape)

    def link_open(renderer, tokens, index, options, env):
        tokens[index].attrSet("rel", "nofollow noopener")
        return renderer.renderToken(tokens, index, options, env)

    parser.add_render_rule("link_open", link_open)
    return parser


_MARKDOWN = _parser()


def render(text: str) -> Markup:
    """The guidelines as HTML that carries only Markdown's own elements."""
    return Markup(_MARKDOWN.render(text or ""))  # noqa: S704 (no raw HTML passes the parser)
