//! The reminder email: an HTML and a plain-text part listing the cart's current lines
//! (picture, name, size, colour, quantity, price, in the cart's currency), a button
//! back to the cart, and a visible unsubscribe link; with the RFC 8058 headers
//! (`List-Unsubscribe` with the signed https link, `List-Unsubscribe-Post:
//! List-Unsubscribe=One-Click`) so mail clients offer one-click unsubscribe.

use crate::catalog::Product;
use crate::customers::Email;
use crate::pricing::PricedLine;
use crate::shared::money::Money;

/// One line as the email shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailLine {
    pub name: String,
    pub size: String,
    pub colour: String,
    pub quantity: u32,
    pub line_total: Money,
    pub image: Option<String>,
}

impl EmailLine {
    pub fn of(priced: &PricedLine, product: Option<&Product>) -> Self {
        EmailLine {
            name: priced.name.clone(),
            size: product.map(|p| p.size.clone()).unwrap_or_default(),
            colour: product.map(|p| p.color.clone()).unwrap_or_default(),
            quantity: priced.quantity.get(),
            line_total: priced.line_total.clone(),
            image: product.and_then(|p| p.images.first().cloned()),
        }
    }
}

/// A rendered reminder email.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReminderEmail {
    pub to: Email,
    pub subject: String,
    pub html: String,
    pub text: String,
    /// Extra headers: the RFC 8058 pair.
    pub headers: Vec<(String, String)>,
}

fn money(m: &Money) -> String {
    format!("{} {}", m.amount, m.currency)
}

/// Escapes text for HTML element content and attribute values.
fn escape(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '&' => "&amp;".into(),
            '<' => "&lt;".into(),
            '>' => "&gt;".into(),
            '"' => "&quot;".into(),
            '\'' => "&#39;".into(),
            c => c.to_string(),
        })
        .collect()
}

/// Renders the reminder for `to` with the cart's current `lines` and `subtotal`.
pub fn render(to: Email, lines: &[EmailLine], subtotal: &Money, cart_link: &str, unsubscribe_link: &str) -> ReminderEmail {
    let subject = "You left something in your cart".to_owned();
    let describe = |l: &EmailLine| {
        let variant: Vec<&str> = [l.size.as_str(), l.colour.as_str()].into_iter().filter(|s| !s.is_empty()).collect();
        let variant = if variant.is_empty() { String::new() } else { format!(" ({})", variant.join(", ")) };
        format!("{} × {}{}", l.quantity, l.name, variant)
    };
    let text_lines: Vec<String> = lines.iter().map(|l| format!("- {}: {}", describe(l), money(&l.line_total))).collect();
    let text = format!(
        "Your cart is waiting for you:\n\n{}\n\nSubtotal: {}\n\nComplete your order: {cart_link}\n\nNo more reminders: {unsubscribe_link}\n",
        text_lines.join("\n"),
        money(subtotal)
    );
    let rows: String = lines
        .iter()
        .map(|l| {
            let image = l.image.as_deref().map_or(String::new(), |src| format!(r#"<img src="{}" alt="" width="96" height="96">"#, escape(src)));
            format!(
                r#"<tr><td>{image}</td><td>{}<br><small>Size {} · {}</small></td><td>{}</td><td align="right">{}</td></tr>"#,
                escape(&l.name),
                escape(&l.size),
                escape(&l.colour),
                l.quantity,
                escape(&money(&l.line_total))
            )
        })
        .collect();
    let html = format!(
        concat!(
            r#"<!doctype html><html><body><h1>Your cart is waiting for you</h1>"#,
            r#"<table><thead><tr><th></th><th>Item</th><th>Qty</th><th>Price</th></tr></thead><tbody>{rows}</tbody>"#,
            r#"<tfoot><tr><td colspan="3">Subtotal</td><td align="right">{subtotal}</td></tr></tfoot></table>"#,
            r#"<p><a href="{cart}" style="display:inline-block;padding:12px 24px;background:#111;color:#fff;text-decoration:none">Complete your order</a></p>"#,
            r#"<p><small><a href="{unsubscribe}">Unsubscribe from cart reminders</a></small></p></body></html>"#
        ),
        rows = rows,
        subtotal = escape(&money(subtotal)),
        cart = escape(cart_link),
        unsubscribe = escape(unsubscribe_link),
    );
    let headers = vec![
        ("List-Unsubscribe".to_owned(), format!("<{unsubscribe_link}>")),
        ("List-Unsubscribe-Post".to_owned(), "List-Unsubscribe=One-Click".to_owned()),
    ];
    ReminderEmail { to, subject, html, text, headers }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_email_lists_the_lines_links_back_and_offers_one_click_unsubscribe() {
        let line = EmailLine {
            name: "Trail <runner>".into(),
            size: "42".into(),
            colour: "black".into(),
            quantity: 2,
            line_total: Money::parse("179.90", "EUR").unwrap(),
            image: Some("https://img.example/t.jpg".into()),
        };
        let mail = render(Email::parse("ann@example.com").unwrap(), &[line], &Money::parse("179.90", "EUR").unwrap(), "https://api.example/c?t=1&x=2", "https://api.example/u?token=abc");
        assert!(mail.text.contains("2 × Trail <runner> (42, black): 179.90 EUR"), "{}", mail.text);
        assert!(mail.text.contains("https://api.example/u?token=abc"));
        assert!(mail.html.contains("Trail &lt;runner&gt;") && !mail.html.contains("<runner>"));
        assert!(mail.html.contains(r#"href="https://api.example/c?t=1&amp;x=2""#));
        assert!(mail.html.contains(r#"<img src="https://img.example/t.jpg""#));
        assert!(mail.html.contains("Unsubscribe"));
        assert_eq!(mail.headers[0], ("List-Unsubscribe".into(), "<https://api.example/u?token=abc>".into()));
        assert_eq!(mail.headers[1].1, "List-Unsubscribe=One-Click");
    }
}
