"""The playbook's Markdown is rendered safely: an XSS corpus, each output parsed and checked
against an allow-list of elements, attributes and link schemes."""

from html.parser import HTMLParser

import pytest

from app.playbook.markdown import render, safe_link

ALLOWED = {
    "p": set(),
    "h3": set(),
    "h4": set(),
    "h5": set(),
    "h6": set(),
    "ul": set(),
    "ol": {"start"},
    "li": set(),
    "strong": set(),
    "em": set(),
    "code": set(),
    "pre": set(),
    "blockquote": set(),
    "hr": set(),
    "br": set(),
    "a": {"href", "rel", "title"},
}

CORPUS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "Hi <img src=x onerror=alert(1)> there",
    '![x](https://evil.example/x.png"onerror="alert(1))',
    '![a](x" onerror="alert(1))',
    "![alt](javascript:alert(1))",
    '<a href="javascript:alert(1)">click</a>',
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](  javascript:alert(1)  )",
    "[click](<javascript:alert(1)>)",
    "[click](java\tscript:alert(1))",
    "[click](jav&#x09;ascript:alert(1))",
    "[click](&#106;avascript:alert(1))",
    "[click](javascript&colon;alert(1))",
    "[click](%6Aavascript:alert(1))",
    "[click](vbscript:msgbox(1))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[click](data:image/png;base64,iVBORw0KGgo=)",
    "[click](file:///etc/passwd)",
    "[ref][x]\n\n[x]: javascript:alert(1)",
    "[x]\n\n[x]: <javascript:alert(1)> 'title'",
    "[ref][y]\n\n[y]: data:text/html,<script>alert(1)</script>",
    "<javascript:alert(1)>",
    "<vbscript:msgbox(1)>",
    "<data:text/html,<script>alert(1)</script>>",
    '[t](https://ok.example "a\\" onmouseover=\\"alert(1)")',
    '[t](https://ok.example "x" onclick="alert(1)")',
    "<div onclick=alert(1)>**bold**</div>",
    "<iframe src=https://evil.example></iframe>",
    "<svg/onload=alert(1)>",
    "<style>body{display:none}</style>",
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "&#60;script&#62;alert(1)&#60;/script&#62;",
    "`<script>alert(1)</script>`",
    "```html\n<script>alert(1)</script>\n```",
    '```"><script>alert(1)</script>\ncode\n```',
    "> <script>alert(1)</script>",
    "* [a](javascript:alert(1))\n* <b onmouseover=alert(1)>b</b>",
    "**[a](javascript:alert(1))**",
    "[**a**](javascript:alert(1) 'x')",
    "[a](javascript:alert(1)#https://ok.example)",
    "<a href=https://ok.example onclick=alert(1)>x</a>",
    "<!-- <script>alert(1)</script> -->",
    "<![CDATA[<script>alert(1)</script>]]>",
    "[a]( javascript:alert(1) )",
    "[a](\njavascript:alert(1))",
    '<https://ok.example/"onmouseover="alert(1)>',
    "<mailto:x@y.example?body=<script>>",
    "[a](https://ok.example/?q=<script>)",
]


class Elements(HTMLParser):
    """Every element with its attributes, as a browser would read the HTML."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found = []

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, dict(attrs)))

    handle_startendtag = handle_starttag


def elements(html: str) -> list[tuple[str, dict]]:
    parser = Elements()
    parser.feed(html)
    parser.close()
    return parser.found


@pytest.mark.parametrize("markdown", CORPUS)
def test_hostile_markdown_renders_only_allowed_elements_attributes_and_links(markdown):
    html = str(render(markdown))
    for tag, attrs in elements(html):
        assert tag in ALLOWED, (tag, html)
        assert set(attrs) <= ALLOWED[tag], (tag, attrs, html)
        if tag == "a":
            assert safe_link(attrs["href"]), html
            assert attrs["rel"] == "nofollow noopener"
    lowered = html.lower()
    for marker in ("<script", "<img", "<iframe", "<svg", "<style", "<div", "<b "):
        assert marker not in lowered, html


def test_raw_html_is_shown_as_text_not_run():
    html = str(render("<b onclick=alert(1)>hi</b>"))
    assert "&lt;b onclick=alert(1)&gt;hi&lt;/b&gt;" in html


def test_ordinary_guidelines_keep_their_formatting_and_safe_links():
    html = str(
        render(
            "# Voice\n\nWarm, **never** pushy.\n\n- Tag [Enoteca Lumen](https://lumen.example)\n"
            "- Write to <press@aurora.example>\n\n1. Photo\n2. Caption"
        )
    )
    assert "<h3>Voice</h3>" in html  # below the page's own headings

    assert "<strong>never</strong>" in html
    assert '<a href="https://lumen.example" rel="nofollow noopener">Enoteca Lumen</a>' in html
    assert 'href="mailto:press@aurora.example"' in html
    assert "<ol>" in html


def test_guideline_headings_start_below_the_page_and_never_skip_a_level():
    html = str(render("### Voice\n\n##### Tone\n\n# Hashtags\n\n#### Whom to tag"))
    assert html.split() == [
        "<h3>Voice</h3>",
        "<h4>Tone</h4>",
        "<h3>Hashtags</h3>",
        "<h4>Whom",
        "to",
        "tag</h4>",
    ]


@pytest.mark.parametrize(
    ("url", "safe"),
    [
        ("https://ok.example", True),
        ("HTTP://ok.example", True),
        ("mailto:a@b.example", True),
        ("/t/team/playbook", True),
        ("#voice", True),
        ("javascript:alert(1)", False),
        (" java\nscript:alert(1)", False),
        ("jav%09ascript:alert(1)", False),
        ("data:image/png;base64,AAAA", False),
        ("vbscript:x", False),
        ("ftp://files.example", False),
    ],
)
def test_only_web_mail_and_relative_links_are_followed(url, safe):
    assert safe_link(url) is safe
