//! Files in the chat: the composer's attachments (picked with the paperclip, dropped on the
//! chat or pasted), each uploading at once with its progress shown, removable before sending,
//! and counted in the send's estimate; and the files of sent messages (images as thumbnails
//! that open, documents as download links).

use leptos::prelude::*;
use uuid::Uuid;

use crate::{
    components::format,
    wire::{image_tokens::image_tokens, AttachmentKind, AttachmentView, Micros, ProviderId},
};

/// What the file picker offers; the server decides from the bytes either way.
const ACCEPT: &str = "image/png,image/jpeg,image/webp,image/gif,application/pdf,.docx,text/*,\
.md,.csv,.json,.yaml,.yml,.toml,.xml,.html,.css,.js,.ts,.tsx,.jsx,.rs,.py,.rb,.go,.java,.kt,\
.c,.h,.cpp,.hpp,.cs,.swift,.php,.sh,.sql,.log";

/// The most files one message takes (the server refuses more).
pub const MAX_FILES: usize = 10;

#[derive(Clone, Debug, PartialEq)]
pub enum UploadState {
    Uploading,
    Done(AttachmentView),
    Failed(String),
}

/// A file in the composer.
#[derive(Clone)]
pub struct Pending {
    pub key: u64,
    pub name: String,
    pub size: u64,
    pub is_image: bool,
    /// From 0 to 1, as the browser sends it.
    pub progress: RwSignal<f64>,
    pub state: RwSignal<UploadState>,
}

/// The composer's files, and what the estimate needs to price them.
#[derive(Clone, Copy)]
pub struct PendingFiles {
    pub list: RwSignal<Vec<Pending>>,
    #[cfg(feature = "hydrate")]
    next_key: StoredValue<u64>,
    provider: Signal<ProviderId>,
    /// The chosen model's input price, micro-dollars per million tokens.
    input_price: Signal<i64>,
    /// A file is being dragged over the chat.
    pub dragging: RwSignal<bool>,
}

impl PendingFiles {
    pub fn new(provider: Signal<ProviderId>, input_price: Signal<i64>) -> Self {
        Self {
            list: RwSignal::new(Vec::new()),
            #[cfg(feature = "hydrate")]
            next_key: StoredValue::new(0),
            provider,
            input_price,
            dragging: RwSignal::new(false),
        }
    }

    /// The ids of the uploaded files, in the order they were added.
    pub fn ready_ids(&self) -> Vec<Uuid> {
        self.list.with_untracked(|list| {
            list.iter()
                .filter_map(|p| match p.state.get_untracked() {
                    UploadState::Done(view) => Some(view.id),
                    _ => None,
                })
                .collect()
        })
    }

    pub fn has_ready(&self) -> bool {
        self.list.with(|list| {
            list.iter()
                .any(|p| matches!(p.state.get(), UploadState::Done(_)))
        })
    }

    pub fn uploading(&self) -> bool {
        self.list.with(|list| {
            list.iter()
                .any(|p| matches!(p.state.get(), UploadState::Uploading))
        })
    }

    pub fn clear(&self) {
        self.list.set(Vec::new());
    }

    fn remove(&self, key: u64) {
        self.list.update(|list| list.retain(|p| p.key != key));
    }

    /// Tokens the files will cost the chosen provider: images by its formula for their size,
    /// documents by their text (about four characters a token).
    pub fn tokens(&self) -> i64 {
        let provider = self.provider.get();
        self.list.with(|list| {
            list.iter()
                .map(|p| match p.state.get() {
                    UploadState::Done(view) => match view.kind {
                        AttachmentKind::Image => {
                            let size = view.width.zip(view.height).map(|(w, h)| {
                                (u32::try_from(w).unwrap_or(0), u32::try_from(h).unwrap_or(0))
                            });
                            image_tokens(provider, size)
                        }
                        _ => view.text_chars.unwrap_or(0) / 4 + 10,
                    },
                    UploadState::Uploading if p.is_image => image_tokens(provider, None),
                    UploadState::Uploading => (p.size / 4) as i64,
                    UploadState::Failed(_) => 0,
                })
                .sum()
        })
    }

    /// The composer's hint: the send's input tokens and, with files, what they cost to send.
    pub fn estimate(&self, text: &str) -> String {
        let files = self.tokens();
        let tokens = format::estimate_tokens(text) + files;
        if files == 0 {
            return format!("≈ {} tokens", format::tokens(tokens));
        }
        let micros = tokens.saturating_mul(self.input_price.get()) / 1_000_000;
        format!(
            "≈ {} tokens with the files, ≈ {} to send",
            format::tokens(tokens),
            Micros(micros).cost()
        )
    }

    #[cfg(feature = "hydrate")]
    fn add(&self, file: web_sys::File) {
        if self.list.with_untracked(|l| l.len()) >= MAX_FILES {
            return;
        }
        let key = self.next_key.get_value();
        self.next_key.set_value(key + 1);
        let pending = Pending {
            key,
            name: file.name(),
            size: file.size() as u64,
            is_image: file.type_().starts_with("image/"),
            progress: RwSignal::new(0.0),
            state: RwSignal::new(UploadState::Uploading),
        };
        self.list.update(|l| l.push(pending.clone()));
        upload(file, pending);
    }

    /// Adds every file of a picker's, a drop's or a paste's list.
    #[cfg(feature = "hydrate")]
    pub fn add_all(&self, files: Option<web_sys::FileList>, only_images: bool) -> bool {
        let mut added = false;
        if let Some(files) = files {
            for i in 0..files.length() {
                if let Some(file) = files.get(i) {
                    if !only_images || file.type_().starts_with("image/") {
                        self.add(file);
                        added = true;
                    }
                }
            }
        }
        added
    }
}

/// Uploads with `XMLHttpRequest`, the one browser API that reports upload progress. Its
/// handlers live as long as the page (a few bytes per upload); `fetch` could not show progress.
#[cfg(feature = "hydrate")]
fn upload(file: web_sys::File, pending: Pending) {
    use wasm_bindgen::{closure::Closure, JsCast};
    let (progress, state) = (pending.progress, pending.state);
    let failed = move |message: &str| state.set(UploadState::Failed(message.to_owned()));
    let (Ok(request), Ok(form)) = (web_sys::XmlHttpRequest::new(), web_sys::FormData::new()) else {
        return failed("This browser cannot upload files.");
    };
    if form
        .append_with_blob_and_filename("file", &file, &file.name())
        .is_err()
        || request.open("POST", "/api/attachments").is_err()
    {
        return failed("The file could not be read.");
    }
    let on_progress =
        Closure::<dyn FnMut(web_sys::ProgressEvent)>::new(move |ev: web_sys::ProgressEvent| {
            if ev.length_computable() && ev.total() > 0.0 {
                progress.set(ev.loaded() / ev.total());
            }
        });
    if let Ok(upload) = request.upload() {
        upload.set_onprogress(Some(on_progress.as_ref().unchecked_ref()));
    }
    on_progress.forget();
    let finished = request.clone();
    let on_end = Closure::<dyn FnMut()>::new(move || {
        let status = finished.status().unwrap_or(0);
        let body = finished.response_text().ok().flatten().unwrap_or_default();
        if status == 201 {
            match serde_json::from_str::<AttachmentView>(&body) {
                Ok(view) => {
                    progress.set(1.0);
                    state.set(UploadState::Done(view));
                }
                Err(_) => failed("The server's answer was not understood."),
            }
        } else if status == 0 {
            failed("The server cannot be reached. Check your connection.");
        } else {
            let body: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
            failed(
                body["error"]["message"]
                    .as_str()
                    .unwrap_or("The upload failed. Please try again."),
            );
        }
    });
    request.set_onloadend(Some(on_end.as_ref().unchecked_ref()));
    on_end.forget();
    if request.send_with_opt_form_data(Some(&form)).is_err() {
        failed("The upload could not start.");
    }
}

/// The paperclip: opens the file picker.
#[component]
pub fn AttachButton(files: PendingFiles) -> impl IntoView {
    let on_change = move |ev: leptos::ev::Event| {
        #[cfg(feature = "hydrate")]
        {
            use wasm_bindgen::JsCast;
            if let Some(input) = ev
                .target()
                .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
            {
                files.add_all(input.files(), false);
                // The same file can be picked again after it was removed.
                input.set_value("");
            }
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (ev, files);
    };
    view! {
        <label class="btn btn-icon attach-button" title="Attach images or documents (or drop them on the chat, or paste an image)">
            <span class="icon icon-paperclip" aria-hidden="true"></span>
            <span class="visually-hidden">"Attach files"</span>
            <input type="file" multiple class="visually-hidden" accept=ACCEPT data-testid="attach-input" on:change=on_change/>
        </label>
    }
}

/// The composer's files as chips: thumbnail or icon, name, size, progress, remove.
#[component]
pub fn AttachmentTray(files: PendingFiles) -> impl IntoView {
    view! {
        <Show when=move || files.list.with(|l| !l.is_empty())>
            <ul class="attachment-tray" aria-label="Attached files">
                <For
                    each=move || files.list.get()
                    key=|p| p.key
                    children=move |p| view! { <AttachmentChip pending=p files/> }
                />
            </ul>
        </Show>
    }
}

#[component]
fn AttachmentChip(pending: Pending, files: PendingFiles) -> impl IntoView {
    let Pending {
        key,
        name,
        size,
        is_image,
        progress,
        state,
    } = pending;
    let thumb = move || match state.get() {
        UploadState::Done(view) if view.kind == AttachmentKind::Image => view! {
            <img class="chip-thumb" src=content_url(view.id) alt=""/>
        }
        .into_any(),
        _ => view! {
            <span class="chip-icon" aria-hidden="true">
                <span class=if is_image { "icon icon-image" } else { "icon icon-document" }></span>
            </span>
        }
        .into_any(),
    };
    let status = move || {
        match state.get() {
        UploadState::Uploading => view! {
            <progress class="chip-progress" max="1" value=move || progress.get() aria-label="Upload progress"></progress>
        }
        .into_any(),
        UploadState::Done(_) => view! { <span class="chip-size">{format::bytes(size)}</span> }.into_any(),
        UploadState::Failed(message) => view! { <span class="chip-error" role="alert">{message}</span> }.into_any(),
    }
    };
    let class = move || match state.get() {
        UploadState::Uploading => "attachment-chip uploading",
        UploadState::Done(_) => "attachment-chip done",
        UploadState::Failed(_) => "attachment-chip failed",
    };
    let label = format!("Remove {name}");
    view! {
        <li class=class data-testid="attachment-chip">
            {thumb}
            <span class="chip-text">
                <span class="chip-name" title=name.clone()>{name.clone()}</span>
                {status}
            </span>
            <button type="button" class="chip-remove" aria-label=label title="Remove" on:click=move |_| files.remove(key)>"×"</button>
        </li>
    }
}

fn content_url(id: Uuid) -> String {
    format!("/api/attachments/{id}/content")
}

/// The files of a sent message: images as thumbnails that open the image, documents as
/// download links.
#[component]
pub fn MessageAttachments(attachments: Vec<AttachmentView>) -> impl IntoView {
    (!attachments.is_empty()).then(|| {
        let items = attachments
            .into_iter()
            .map(|a| {
                let url = content_url(a.id);
                if a.kind == AttachmentKind::Image {
                    let src = url.clone();
                    view! {
                        <a class="attachment-image" href=url target="_blank" rel="noopener" title=a.filename.clone()>
                            <img src=src alt=a.filename.clone() loading="lazy" data-testid="attachment-thumbnail"/>
                        </a>
                    }
                    .into_any()
                } else {
                    view! {
                        <a class="attachment-file" href=url download=a.filename.clone() data-testid="attachment-link">
                            <span class="icon icon-document" aria-hidden="true"></span>
                            <span class="attachment-file-name">{a.filename.clone()}</span>
                            <span class="attachment-file-size">{format::bytes(a.size_bytes.max(0) as u64)}</span>
                        </a>
                    }
                    .into_any()
                }
            })
            .collect_view();
        view! { <div class="message-attachments">{items}</div> }
    })
}
