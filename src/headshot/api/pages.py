"""Small HTML pages for people who arrive from a link (a share, a deletion receipt) in a browser.

The API answers JSON; a request whose `Accept` prefers `text/html` gets one of these instead.
Styles come from a file of ours (the CSP allows no inline style); every value is escaped.
"""

from __future__ import annotations

from html import escape

from headshot.domain.privacy import DeletionReceiptView, describe_deleted

_SCOPES = {
    "account": "your account and everything in it",
    "session": "a batch",
    "photo": "a photo",
    "model": "a model version",
    "headshot": "a headshot",
}


def page(*, title: str, body: str, stylesheet: str, head: str = "") -> str:
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="robots" content="noindex">\n'
        f"<title>{escape(title)}</title>\n{head}"
        f'<link rel="stylesheet" href="{escape(stylesheet)}">\n'
        f"</head>\n<body><main>{body}</main></body></html>"
    )


def share_page(*, page_url: str, image_url: str, expires: str, stylesheet: str) -> str:
    title = "A professional headshot"
    meta = {
        "og:title": title,
        "og:description": "Shared with Headshot.",
        "og:type": "website",
        "og:url": page_url,
        "og:image": image_url,
        "og:image:alt": "A professional headshot",
        "twitter:card": "summary_large_image",
        "twitter:title": title,
        "twitter:image": image_url,
    }
    head = "".join(
        f'<meta {"name" if key.startswith("twitter:") else "property"}="{key}" '
        f'content="{escape(value)}">\n'
        for key, value in meta.items()
    )
    body = (
        f"<h1>{escape(title)}</h1>"
        f'<img src="{escape(image_url)}" alt="A professional headshot" width="1024" height="1280">'
        f"<p>Shared with Headshot. This link expires {escape(expires)}.</p>"
    )
    return page(title=title, body=body, stylesheet=stylesheet, head=head)


def gone_page(*, title: str, message: str, stylesheet: str) -> str:
    body = f"<h1>{escape(title)}</h1><p>{escape(message)}</p>"
    return page(title=title, body=body, stylesheet=stylesheet)


def receipt_page(view: DeletionReceiptView, *, stylesheet: str) -> str:
    what = _SCOPES.get(view.scope, "your data")
    done = view.status == "complete"
    title = "Deletion complete" if done else "Deletion in progress"
    items = "".join(f"<li>{escape(p)}</li>" for p in describe_deleted(view.deleted))
    status = (
        f"Everything was deleted on {view.completed_at:%d %B %Y at %H:%M} UTC."
        if done and view.completed_at
        else "We deleted it here. Our AI provider has not yet confirmed deleting its copies "
        f"({view.provider_pending} still to confirm); we keep asking until it does. "
        "Open this page again later to see when it is complete."
    )
    body = (
        f"<h1>{escape(title)}</h1>"
        f"<p>Deletion of {escape(what)}, asked for on "
        f"{view.created_at:%d %B %Y at %H:%M} UTC.</p><p>{escape(status)}</p>"
        + (f"<h2>What was deleted</h2><ul>{items}</ul>" if items else "")
        + f"<p>Receipt number: <code>{escape(view.id)}</code>. Keep this page's address as "
        "your proof; it names no person.</p>"
    )
    return page(title=title, body=body, stylesheet=stylesheet)
