//! `/privacy`: the privacy notice, generated from the live configuration in each language so
//! that it can never say something the running Haven does not do.

use axum::{
    extract::{Query, State},
    http::header,
    response::{IntoResponse, Response},
};
use serde::Deserialize;

use super::assets::html_escape as escape;
use crate::{
    config::Config,
    forms::{DateBucket, FormKind, Kind},
    state::AppState,
};

/// The notice's own sentences. `{…}` placeholders are filled from the configuration.
struct Words {
    title: &'static str,
    intro: &'static str,
    chats_title: &'static str,
    chats: &'static str,
    ip: &'static str,
    forms_title: &'static str,
    forms_intro: &'static str,
    intake: &'static str,
    survey: &'static str,
    optional: &'static str,
    name_never: &'static str,
    kept_title: &'static str,
    kept: &'static str,
    bucket_day: &'static str,
    bucket_week: &'static str,
    free_text_on: &'static str,
    free_text_off: &'static str,
    email: &'static str,
    deletion_title: &'static str,
    deletion: &'static str,
    children_title: &'static str,
    children: &'static str,
    sharing_title: &'static str,
    sharing: &'static str,
    contact_title: &'static str,
    contact: &'static str,
    back: &'static str,
}

const EN: Words = Words {
    title: "Privacy",
    intro: "{program} lets you chat with an advocate without giving your name or making an account. This page describes exactly what this chat service keeps.",
    chats_title: "Your chat",
    chats: "Messages are kept only in the server's memory, never on disk. When a chat ends, its messages are erased {retention} minutes later.",
    ip: "Your IP address and your browser's details are never stored or logged. The chat page sets no cookie.",
    forms_title: "The optional forms",
    forms_intro: "Before a chat you may fill in a short form, and after it a short survey. Every question is optional, and you can skip both.",
    intake: "Before the chat we may ask:",
    survey: "After the chat we may ask:",
    optional: "(optional)",
    name_never: "A name or nickname is shown to your advocate during the chat only and is never stored.",
    kept_title: "What is kept, and for how long",
    kept: "Answers are stored without any link to your chat, your advocate, your address or the time: only {bucket} is kept. They are deleted after {months} months. Staff see only totals in which small numbers are hidden, never one person's answers.",
    bucket_day: "the date",
    bucket_week: "the week",
    free_text_on: "Written answers (such as a city) are stored and read only by the program's evaluators, one page at a time, never in reports.",
    free_text_off: "Written answers (such as a city) are never stored.",
    email: "If you give an email for a follow-up, it is kept apart from your answers, seen only by the staff who follow up, and deleted after {days} days.",
    deletion_title: "Erasing your answers",
    deletion: "After you send a form you see a deletion code. Keep it if you may want your answers erased: enter it on the Forget page and they are erased, with any follow-up email. The code works once. Without it nobody can find your answers, because nothing links them to you.",
    children_title: "Children under 13",
    children: "If an answer says you are under 13, none of your answers are stored; only a count that a form was not kept. Your advocate still sees what you chose to share during the chat.",
    sharing_title: "Sharing",
    sharing: "Nothing is sold or shared. Reports to funders and boards contain only totals, with small numbers hidden.",
    contact_title: "Other ways to reach us",
    contact: "Call {phone}. {text}.",
    back: "Back to the chat",
};

const ES: Words = Words {
    title: "Privacidad",
    intro: "{program} le permite chatear con una intercesora sin dar su nombre ni crear una cuenta. Esta página describe exactamente lo que guarda este servicio de chat.",
    chats_title: "Su chat",
    chats: "Los mensajes se guardan solo en la memoria del servidor, nunca en disco. Cuando un chat termina, sus mensajes se borran {retention} minutos después.",
    ip: "Su dirección IP y los datos de su navegador nunca se guardan ni se registran. La página del chat no usa cookies.",
    forms_title: "Los formularios opcionales",
    forms_intro: "Antes del chat puede llenar un formulario corto y, después, una encuesta corta. Todas las preguntas son opcionales y puede saltarse ambos.",
    intake: "Antes del chat podemos preguntar:",
    survey: "Después del chat podemos preguntar:",
    optional: "(opcional)",
    name_never: "Un nombre o apodo se muestra a su intercesora solo durante el chat y nunca se guarda.",
    kept_title: "Qué se guarda y por cuánto tiempo",
    kept: "Las respuestas se guardan sin ningún vínculo con su chat, su intercesora, su dirección ni la hora: solo se guarda {bucket}. Se borran después de {months} meses. El personal ve solo totales en los que se ocultan los números pequeños, nunca las respuestas de una persona.",
    bucket_day: "la fecha",
    bucket_week: "la semana",
    free_text_on: "Las respuestas escritas (como una ciudad) se guardan y solo las leen las personas que evalúan el programa, una página a la vez, nunca en informes.",
    free_text_off: "Las respuestas escritas (como una ciudad) nunca se guardan.",
    email: "Si da un correo electrónico para que le contactemos, se guarda aparte de sus respuestas, solo lo ve el personal que hace el seguimiento y se borra a los {days} días.",
    deletion_title: "Borrar sus respuestas",
    deletion: "Después de enviar un formulario verá un código de borrado. Guárdelo si quiere que borremos sus respuestas: escríbalo en la página Olvidar y se borran, junto con cualquier correo de seguimiento. El código funciona una vez. Sin él nadie puede encontrar sus respuestas, porque nada las vincula con usted.",
    children_title: "Menores de 13 años",
    children: "Si una respuesta indica que tiene menos de 13 años, no se guarda ninguna de sus respuestas; solo se cuenta que un formulario no se guardó. Su intercesora sigue viendo lo que usted decidió compartir durante el chat.",
    sharing_title: "Compartir",
    sharing: "Nada se vende ni se comparte. Los informes para financiadores y juntas contienen solo totales, con los números pequeños ocultos.",
    contact_title: "Otras formas de comunicarse",
    contact: "Llame al {phone}. {text}.",
    back: "Volver al chat",
};

fn words(lang: &str) -> &'static Words {
    match lang {
        "es" => &ES,
        _ => &EN,
    }
}

/// The notice in `lang`, from `config` as it is now.
pub fn render(config: &Config, lang: &str) -> String {
    let w = words(lang);
    let default = config.program.languages[0].as_str();
    let forms = &config.forms;
    let pick = |labels: &std::collections::BTreeMap<String, String>| {
        labels
            .get(lang)
            .or_else(|| labels.get(default))
            .cloned()
            .unwrap_or_default()
    };
    let fill = |template: &str| {
        escape(
            &template
                .replace("{program}", &config.program.name)
                .replace(
                    "{retention}",
                    &config
                        .chat
                        .retention_after_close_secs
                        .div_ceil(60)
                        .to_string(),
                )
                .replace(
                    "{bucket}",
                    match forms.date_bucket {
                        DateBucket::Day => w.bucket_day,
                        DateBucket::Week => w.bucket_week,
                    },
                )
                .replace("{months}", &forms.retention_months.to_string())
                .replace("{days}", &forms.followup_window_days.to_string())
                .replace("{phone}", &config.program.hotline_phone)
                .replace("{text}", config.program.hotline_text.trim_end_matches('.')),
        )
    };
    let mut html = String::new();
    let push = |html: &mut String, s: String| html.push_str(&s);
    push(
        &mut html,
        format!(
            "<!doctype html>\n<html lang=\"{lang}\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<meta name=\"referrer\" content=\"no-referrer\">\n<meta name=\"robots\" content=\"noindex, nofollow\">\n<title>{}</title>\n<link rel=\"stylesheet\" href=\"/chat/chat.css\">\n</head>\n<body>\n<main class=\"main\" id=\"main\">\n<h1>{}</h1>\n<p>{}</p>\n",
            escape(&config.program.page_title),
            escape(w.title),
            fill(w.intro)
        ),
    );
    push(
        &mut html,
        format!(
            "<h2>{}</h2>\n<p>{}</p>\n<p data-testid=\"privacy-ip\">{}</p>\n",
            escape(w.chats_title),
            fill(w.chats),
            fill(w.ip)
        ),
    );
    push(
        &mut html,
        format!(
            "<h2>{}</h2>\n<p>{}</p>\n",
            escape(w.forms_title),
            fill(w.forms_intro)
        ),
    );
    for kind in FormKind::ALL {
        let form = forms.form(kind);
        if form.questions.is_empty() {
            continue;
        }
        let heading = match kind {
            FormKind::Intake => w.intake,
            FormKind::Survey => w.survey,
        };
        push(
            &mut html,
            format!(
                "<p>{}</p>\n<ul data-testid=\"privacy-{}\">\n",
                escape(heading),
                kind.as_str()
            ),
        );
        for q in &form.questions {
            push(
                &mut html,
                format!(
                    "<li>{} {}</li>\n",
                    escape(&pick(&q.label)),
                    escape(w.optional)
                ),
            );
        }
        html.push_str("</ul>\n");
    }
    if forms.intake.questions.iter().any(|q| q.never_stored) {
        push(&mut html, format!("<p>{}</p>\n", fill(w.name_never)));
    }
    push(
        &mut html,
        format!(
            "<h2>{}</h2>\n<p data-testid=\"privacy-kept\">{}</p>\n",
            escape(w.kept_title),
            fill(w.kept)
        ),
    );
    let has_text = FormKind::ALL.iter().any(|k| {
        forms
            .form(*k)
            .questions
            .iter()
            .any(|q| q.kind == Kind::Text && !q.never_stored)
    });
    if has_text {
        let text = if forms.store_free_text {
            w.free_text_on
        } else {
            w.free_text_off
        };
        push(&mut html, format!("<p>{}</p>\n", fill(text)));
    }
    if forms.survey.questions.iter().any(|q| q.kind == Kind::Email) {
        push(
            &mut html,
            format!("<p data-testid=\"privacy-email\">{}</p>\n", fill(w.email)),
        );
    }
    push(
        &mut html,
        format!(
            "<h2>{}</h2>\n<p>{} <a href=\"/forget\">/forget</a></p>\n",
            escape(w.deletion_title),
            fill(w.deletion)
        ),
    );
    push(
        &mut html,
        format!(
            "<h2>{}</h2>\n<p>{}</p>\n",
            escape(w.children_title),
            fill(w.children)
        ),
    );
    push(
        &mut html,
        format!(
            "<h2>{}</h2>\n<p>{}</p>\n",
            escape(w.sharing_title),
            fill(w.sharing)
        ),
    );
    push(
        &mut html,
        format!(
            "<h2>{}</h2>\n<p data-testid=\"privacy-contact\">{}</p>\n",
            escape(w.contact_title),
            fill(w.contact)
        ),
    );
    let languages: Vec<String> = config
        .program
        .languages
        .iter()
        .map(|l| {
            format!(
                "<a href=\"/privacy?lang={0}\" hreflang=\"{0}\">{0}</a>",
                escape(l)
            )
        })
        .collect();
    push(
        &mut html,
        format!(
            "<p>{}</p>\n<p><a href=\"/\">{}</a></p>\n</main>\n</body>\n</html>\n",
            languages.join(" · "),
            escape(w.back)
        ),
    );
    html
}

#[derive(Deserialize)]
pub struct PrivacyQuery {
    lang: Option<String>,
}

pub async fn page(State(state): State<AppState>, Query(query): Query<PrivacyQuery>) -> Response {
    // With admins' edits of the program's texts (crate::settings).
    let config = state.settings.current();
    let languages = &config.program.languages;
    let lang = query
        .lang
        .filter(|l| languages.contains(l))
        .unwrap_or_else(|| languages[0].clone());
    (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        render(&config, &lang),
    )
        .into_response()
}
