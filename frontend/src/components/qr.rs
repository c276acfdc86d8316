//! A QR code drawn as inline SVG, for handing an `otpauth://` URI to a phone.
//!
//! The modules are turned into one SVG path built here, so nothing is ever parsed as HTML.

use leptos::prelude::*;
use qrcode::{Color, QrCode};

/// Light modules around the symbol; scanners need four to find it reliably.
const QUIET_ZONE: usize = 4;

/// The SVG path data for the dark modules: one unit square per module, offset by the quiet zone.
fn dark_modules_path(code: &QrCode) -> String {
    let width = code.width();
    let mut d = String::new();
    for (i, color) in code.to_colors().into_iter().enumerate() {
        if color == Color::Dark {
            let (x, y) = (i % width + QUIET_ZONE, i / width + QUIET_ZONE);
            d.push_str(&format!("M{x} {y}h1v1h-1z"));
        }
    }
    d
}

/// `data` as a QR code, or a short note when it is too long to encode.
#[component]
pub fn QrCodeSvg(
    /// What to encode.
    data: String,
    /// The accessible name of the image (the raw data stays available as text elsewhere).
    #[prop(into)]
    label: String,
) -> impl IntoView {
    let Ok(code) = QrCode::new(data.as_bytes()) else {
        return view! { <p class="qr-error">"Too long for a QR code; use the text instead."</p> }
            .into_any();
    };
    let side = code.width() + 2 * QUIET_ZONE;
    let view_box = format!("0 0 {side} {side}");
    view! {
        <svg class="qr" role="img" aria-label=label viewBox=view_box
            xmlns="http://www.w3.org/2000/svg" shape-rendering="crispEdges">
            <rect width="100%" height="100%" fill="#fff" />
            <path d=dark_modules_path(&code) fill="#000" />
        </svg>
    }
    .into_any()
}
