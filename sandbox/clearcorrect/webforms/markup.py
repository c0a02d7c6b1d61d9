"""HTML of the WebForms pages: the master page (one `form#aspnetForm` posting back to the page
itself, its hidden `__EVENTTARGET` / `__EVENTARGUMENT` / `__VIEWSTATE` / `__EVENTVALIDATION`,
the `__doPostBack` script and the header with `#ctl00_lblUserName`), AJAX Control Toolkit tab
containers, GridView tables with their pager, and the server error pages.

Only markup lives here; the ids and names are the register's (`cc.wf.*`). Every value is
escaped. The pages work in a browser without other scripts: `__doPostBack` submits the form,
tab headers switch panels on the client, and `$find(id).set_activeTabIndex(n)` does the same
for scripts, as the public code uses it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from html import escape
from typing import Any

from sandbox.clearcorrect import labels
from sandbox.clearcorrect.webforms.viewstate import (
    EVENTARGUMENT,
    EVENTTARGET,
    EVENTVALIDATION,
    VIEWSTATE,
    Controls,
    Signer,
)

FORM_ID = "aspnetForm"
USER_LABEL_ID = "ctl00_lblUserName"

_STYLE = """
body{font-family:Arial,Helvetica,sans-serif;margin:0;color:#2b2b2b;background:#eef1f4;font-size:14px}
#header{display:flex;gap:1rem;align-items:center;background:#00365f;color:#fff;padding:.5rem 1rem}
#header a{color:#fff}#header .brand{font-weight:700;margin-right:auto}
#content{max-width:1150px;margin:1rem auto;background:#fff;padding:1rem 1.4rem}
table.grid{border-collapse:collapse;width:100%;margin:.5rem 0}
table.grid th,table.grid td{border:1px solid #d5dbe1;padding:.3rem .45rem;text-align:left}
table.grid th{background:#e7edf3}tr.pager td{border:none}tr.pager a,tr.pager span{margin:0 .2rem}
tr.unread{font-weight:700}.chat-bubble{display:inline-block;min-width:1.3em;padding:0 .4em;
border-radius:1em 1em 1em 0;background:#e8562a;color:#fff;text-align:center}
.ajax__tab_header{border-bottom:1px solid #9aa7b4;margin-top:1rem}
.ajax__tab_header>span{display:inline-block;padding:.3rem .7rem;cursor:pointer}
.ajax__tab_active{background:#00365f}.ajax__tab_active a{color:#fff}
.ajax__tab_panel{padding:.6rem 0}.error{color:#b00020}.message{color:#11623b}
.btnlgray{display:inline-block;padding:.1rem .3rem;background:#eee;border:1px solid #bbb}
.hand{cursor:pointer}.modalPopup{border:2px solid #00365f;padding:.6rem;margin:1rem 0}
.actionitems{border-left:4px solid #e8562a;padding:.3rem .8rem;background:#fff6f2}
"""

_POSTBACK_SCRIPT = """
var theForm = document.forms['aspnetForm'];
function __doPostBack(eventTarget, eventArgument) {
  if (!theForm.onsubmit || (theForm.onsubmit() != false)) {
    theForm.__EVENTTARGET.value = eventTarget;
    theForm.__EVENTARGUMENT.value = eventArgument;
    theForm.submit();
  }
}
"""

_TABS_SCRIPT = """
(function () {
  function TabContainer(id) { this.id = id; }
  TabContainer.prototype.set_activeTabIndex = function (index) {
    var root = document.getElementById(this.id);
    if (!root) return;
    var heads = root.querySelectorAll(':scope > .ajax__tab_header > span');
    var panels = root.querySelectorAll(':scope > .ajax__tab_body > .ajax__tab_panel');
    for (var i = 0; i < panels.length; i++) {
      var on = i === index;
      panels[i].style.display = on ? '' : 'none';
      panels[i].style.visibility = on ? 'visible' : 'hidden';
      if (heads[i] && heads[i].style.display !== 'none') {
        heads[i].className = on ? 'ajax__tab_active' : '';
      }
    }
    var state = document.getElementById(this.id + '_ClientState');
    if (state) state.value = JSON.stringify({ActiveTabIndex: index});
  };
  window.$find = function (id) {
    return document.getElementById(id) ? new TabContainer(id) : null;
  };
  document.addEventListener('click', function (event) {
    var head = event.target.closest('.ajax__tab_header > span');
    if (!head) return;
    event.preventDefault();
    var root = head.parentNode.parentNode;
    var heads = Array.prototype.slice.call(head.parentNode.children);
    window.$find(root.id).set_activeTabIndex(heads.indexOf(head));
  });
  if (location.hash === '#tabNotes') {
    document.addEventListener('DOMContentLoaded', function () {
      var notes = document.getElementById('ctl00_MainPH_tcRecord_tpNotes_header');
      if (notes) notes.click();
    });
  }
})();
"""


def e(value: object) -> str:
    return escape(str(value), quote=True)


def shown_time(moment: datetime, lang: str) -> str:
    """Dates as ASP.NET writes them in each culture (times are the portal's, in UTC)."""
    if lang == "en":
        hour = moment.hour % 12 or 12
        half = "AM" if moment.hour < 12 else "PM"
        return (
            f"{moment.month}/{moment.day}/{moment.year} "
            f"{hour}:{moment.minute:02d}:{moment.second:02d} {half}"
        )
    return moment.strftime("%d.%m.%Y %H:%M:%S")


@dataclass
class Page:
    """One rendering of a WebForms page: its language, the controls it allows a postback to
    name (event validation) and what it remembers (view state)."""

    path: str  # the page's own path (view state and event validation are bound to it)
    action: str  # the form's action, relative as WebForms writes it: ./case.aspx?id=1
    lang: str
    user: str | None
    state: dict[str, Any] = field(default_factory=dict)
    controls: Controls = field(default_factory=Controls)

    def w(self, fact_id: str) -> str:
        return labels.word(fact_id, self.lang)

    def time(self, moment: datetime) -> str:
        return shown_time(moment, self.lang)


def document(
    page: Page,
    signer: Signer,
    title: str,
    content: str,
    header: str = "",
) -> str:
    """The master page around `content`, with the signed hidden fields at the end (so every
    control the content registered is in the event validation)."""
    viewstate = signer.sign("viewstate", page.path, page.user, page.state)
    validation = signer.sign("eventvalidation", page.path, page.user, page.controls.allowed)
    return (
        f'<!DOCTYPE html><html lang="{e(page.lang)}" xmlns="http://www.w3.org/1999/xhtml">'
        '<head><meta charset="utf-8">'
        f"<title>{e(title)} - ClearCorrect</title><style>{_STYLE}</style></head><body>"
        f'<form method="post" action="{e(page.action)}" id="{FORM_ID}">'
        '<div class="aspNetHidden">'
        f'<input type="hidden" name="{EVENTTARGET}" id="{EVENTTARGET}" value="">'
        f'<input type="hidden" name="{EVENTARGUMENT}" id="{EVENTARGUMENT}" value="">'
        f'<input type="hidden" name="{VIEWSTATE}" id="{VIEWSTATE}" value="{e(viewstate)}">'
        f'</div><script type="text/javascript">{_POSTBACK_SCRIPT}</script>'
        f'{header}<div id="content">{content}</div>'
        '<div class="aspNetHidden">'
        f'<input type="hidden" name="{EVENTVALIDATION}" id="{EVENTVALIDATION}" '
        f'value="{e(validation)}"></div>'
        f'</form><script type="text/javascript">{_TABS_SCRIPT}</script></body></html>'
    )


def header(page: Page, username: str | None, add_order: bool = False) -> str:
    """The master page's bar; signed in, it greets the user in `#ctl00_lblUserName`."""
    if username is None:
        return '<div id="header"><span class="brand">ClearCorrect</span></div>'
    order = (
        f'<a id="ctl00_lnkAddOrder" href="/cases.aspx">{e(page.w("cc.order.add-order"))}</a>'
        if add_order
        else ""
    )
    return (
        '<div id="header"><a class="brand" href="/cases.aspx">ClearCorrect</a>'
        f'<a id="ctl00_lnkManageOrders" href="/cases.aspx">{e(page.w("cc.list.home"))}</a>'
        f"{order}"
        f'<span id="{USER_LABEL_ID}">{e(page.w("cc.wf.signin.welcome-prefix"))}{e(username)}'
        "</span>"
        f'<a id="ctl00_lnkMyAccount" href="/account.aspx">{e(page.w("cc.account.title"))}</a>'
        f'<a id="ctl00_lnkSignOut" href="/Logout.aspx">{e(page.w("cc.wf.signout"))}</a></div>'
    )


@dataclass(frozen=True)
class Tab:
    panel: str  # the panel's short name: tpForm, tpFiles, tpNotes
    label: str
    body: str
    hidden: bool = False  # present, but hidden (zero height) like an empty Online Form tab


def tab_container(container: str, tabs: Sequence[Tab], active: int, head_suffix: str) -> str:
    """An AJAX Control Toolkit TabContainer. `head_suffix` is how this container names its
    tab headers (`_tab` in the case submission pop-up, `_header` on the case page)."""
    heads = []
    panels = []
    for index, tab in enumerate(tabs):
        on = index == active and not tab.hidden
        head_style = ' style="display:none;visibility:hidden;"' if tab.hidden else ""
        heads.append(
            f'<span id="{container}_{tab.panel}{head_suffix}"'
            f"{' class=ajax__tab_active' if on else ''}{head_style}>"
            '<span class="ajax__tab_outer"><span class="ajax__tab_inner">'
            f'<a class="ajax__tab_tab" id="__tab_{container}_{tab.panel}" href="#">'
            f"{e(tab.label)}</a></span></span></span>"
        )
        panel_style = "" if on else ' style="display:none;visibility:hidden;"'
        panels.append(
            f'<div id="{container}_{tab.panel}" class="ajax__tab_panel"{panel_style}>'
            f"{tab.body}</div>"
        )
    state = e('{"ActiveTabIndex":' + str(active) + "}")
    return (
        f'<div id="{container}" class="ajax__tab_xp ajax__tab_container ajax__tab_default">'
        f'<div id="{container}_header" class="ajax__tab_header">{"".join(heads)}</div>'
        f'<div id="{container}_body" class="ajax__tab_body">{"".join(panels)}</div>'
        f'<input type="hidden" id="{container}_ClientState" '
        f'name="{container.replace("_", "$")}_ClientState" value="{state}"></div>'
    )


def grid(
    grid_id: str,
    headers: Sequence[str],
    rows: Iterable[str],
    empty: str,
    pager: str = "",
) -> str:
    """A GridView: header row of `th`, data rows, the empty-data row and the pager row."""
    body = "".join(rows)
    if not body:
        body = f'<tr class="empty"><td colspan="{len(headers)}">{e(empty)}</td></tr>'
    head = "".join(f'<th scope="col">{e(h)}</th>' for h in headers)
    return (
        f'<table class="grid" cellspacing="0" rules="all" border="1" id="{grid_id}">'
        f"<tr>{head}</tr>{body}{pager}</table>"
    )


def pager(page: Page, target: str, current: int, pages: int, columns: int) -> str:
    """The GridView's numeric pager: the current page as text, the others as postback links."""
    if pages <= 1:
        return ""
    cells = []
    for number in range(1, pages + 1):
        if number == current:
            cells.append(f"<td><span>{number}</span></td>")
        else:
            href = page.controls.event(target, f"Page${number}")
            cells.append(f'<td><a href="{e(href)}">{number}</a></td>')
    return (
        f'<tr class="pager"><td colspan="{columns}"><table><tr>{"".join(cells)}</tr>'
        "</table></td></tr>"
    )


def select(
    page: Page,
    name: str,
    options: Sequence[tuple[str, str]],
    selected: int | None,
    *,
    autopostback: bool,
) -> str:
    """A DropDownList (`selected` is the index of the selected option); with AutoPostBack its
    change posts back with its own name as target."""
    element_id = name.replace("$", "_")
    values = [value for value, _ in options]
    if autopostback:
        page.controls.select(name, values)
        change = (
            f' onchange="javascript:setTimeout(&#39;__doPostBack(\\&#39;{e(name)}\\&#39;,'
            '\\&#39;\\&#39;)&#39;, 0)"'
        )
    else:
        page.controls.allowed.setdefault(name, []).extend(values)
        change = ""
    items = "".join(
        f'<option{" selected=selected" if index == selected else ""} value="{e(value)}">'
        f"{e(text)}</option>"
        for index, (value, text) in enumerate(options)
    )
    return f'<select name="{e(name)}" id="{element_id}"{change}>{items}</select>'


def button(page: Page, name: str, text: str) -> str:
    page.controls.button(name)
    return (
        f'<input type="submit" name="{e(name)}" value="{e(text)}" id="{e(name.replace("$", "_"))}">'
    )


def text_box(page: Page, name: str, kind: str = "text", value: str = "", extra: str = "") -> str:
    page.controls.text(name)
    value_attr = f' value="{e(value)}"' if value else ""
    return (
        f'<input name="{e(name)}" type="{kind}" id="{e(name.replace("$", "_"))}"'
        f"{value_attr}{extra}>"
    )


def text_area(page: Page, name: str, max_length: int, extra: str = "") -> str:
    page.controls.text(name)
    return (
        f'<textarea name="{e(name)}" rows="4" cols="60" id="{e(name.replace("$", "_"))}" '
        f'maxlength="{max_length}"{extra}></textarea>'
    )


def label(element_id: str, text: str, css: str = "") -> str:
    css_attr = f' class="{css}"' if css else ""
    return f'<span id="{element_id}"{css_attr}>{e(text)}</span>'


def server_error(title: str, message: str) -> str:
    """ASP.NET's error page ("Server Error in '/' Application.")."""
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{e(title)}</title></head><body>"
        "<h1>Server Error in '/' Application.</h1>"
        f"<h2><i>{e(title)}</i></h2><p>{e(message)}</p></body></html>"
    )
