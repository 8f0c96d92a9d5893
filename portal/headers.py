"""Headers every answer carries: no framing, no sniffing, a referrer policy, and for pages a
Content-Security-Policy that allows the portal's own scripts and styles only; HSTS over HTTPS."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, make_response, request

STRIPE_CHECKOUT = "https://checkout.stripe.com"
PRIVATE = "private, no-store"
# Two years, the length browsers' preload lists ask for.
HSTS = "max-age=63072000; includeSubDomains"


def private(response, status: int = 200):
    """``response`` (a page, a file) made for one signed-in reader: no cache keeps it."""
    response = make_response(response, status)
    response.headers["Cache-Control"] = PRIVATE
    return response


def image_answer(image):
    """A logo (``content``, ``media_type``) as its own answer: an SVG opened directly runs no
    script and loads nothing (sandbox), and is never read as another type."""
    response = make_response(image.content)
    response.headers["Content-Type"] = image.media_type
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'unsafe-inline'; sandbox"
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def content_security_policy(checkout_origins: str) -> str:
    """Scripts, styles, fonts and images from the portal itself (htmx is served by it; no
    inline script or style), never inside another site's frame; forms post to the portal,
    and on to Stripe's Checkout (``checkout_origins``) after paying by card."""
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            "font-src 'self'",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "frame-ancestors 'none'",
            f"form-action 'self' {checkout_origins}",
        ]
    )


def init_app(app: Flask) -> None:
    checkout = STRIPE_CHECKOUT
    base = app.config.get("STRIPE_API_BASE")
    if base:
        # A Stripe-compatible server (or a proxy to Stripe) may serve its own Checkout page.
        parts = urlsplit(base)
        checkout += f" {parts.scheme}://{parts.netloc}"
    policy = content_security_policy(checkout)

    @app.after_request
    def security_headers(response):
        headers = response.headers
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("X-Content-Type-Options", "nosniff")
        # Pages whose address carries a token set no-referrer themselves.
        headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        if response.mimetype == "text/html":
            # Only pages: a PDF viewer is a plugin that object-src 'none' would block.
            headers.setdefault("Content-Security-Policy", policy)
        if request.is_secure:
            headers.setdefault("Strict-Transport-Security", HSTS)
        return response
