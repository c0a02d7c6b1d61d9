"""The rendered DOM of a page as HTML, open shadow roots included as declarative shadow DOM
(`<template shadowrootmode="open">`), so a recorded page shows what the page script built and
a parser can read it back without a browser. `page.content()` leaves shadow roots out."""

from __future__ import annotations

from playwright.async_api import Page

_SERIALIZE = """
() => {
  const escapeText = (t) => t.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const escapeAttr = (t) => escapeText(t).replace(/"/g, '&quot;');
  const VOID = new Set(['area','base','br','col','embed','hr','img','input','link','meta',
                        'source','track','wbr']);
  const children = (parent) => Array.from(parent.childNodes).map(node).join('');
  const node = (n) => {
    if (n.nodeType === Node.TEXT_NODE) return escapeText(n.textContent);
    if (n.nodeType !== Node.ELEMENT_NODE) return '';
    const tag = n.localName;
    const attrs = Array.from(n.attributes)
      .map((a) => ` ${a.name}="${escapeAttr(a.value)}"`).join('');
    if (VOID.has(tag)) return `<${tag}${attrs}>`;
    let inner = '';
    if (n.shadowRoot) {
      inner += `<template shadowrootmode="open">${children(n.shadowRoot)}</template>`;
    }
    const own = tag === 'template' ? children(n.content) : children(n);
    return `<${tag}${attrs}>${inner}${own}</${tag}>`;
  };
  return '<!DOCTYPE html>' + node(document.documentElement);
}
"""


async def rendered_html(page: Page) -> str:
    """The page's DOM now, shadow roots included."""
    html: str = await page.evaluate(_SERIALIZE)
    return html
