//! GPU textures for decoded pictures, uploaded once and freed when their
//! picture leaves the state.

use std::collections::HashMap;

use eframe::egui::{self, ColorImage, Id, TextureHandle, TextureOptions};

use crate::worker::Picture;

type Key = (u64, [usize; 2]);

#[derive(Clone, Default)]
struct Cache(HashMap<Key, TextureHandle>);

fn cache_id() -> Id {
    Id::unique("shm-clip-textures")
}

fn key(picture: &Picture) -> Key {
    (picture.seq, picture.pixels_size)
}

/// The texture of `picture`, uploading it the first time.
pub fn texture(ctx: &egui::Context, picture: &Picture) -> TextureHandle {
    let key = key(picture);
    if let Some(handle) = ctx.data_mut(|d| {
        d.get_temp_mut_or_default::<Cache>(cache_id())
            .0
            .get(&key)
            .cloned()
    }) {
        return handle;
    }
    let image = ColorImage::from_rgba_unmultiplied(picture.pixels_size, &picture.rgba);
    let handle = ctx.load_texture(
        format!("clip-{}-{}", key.0, key.1[0]),
        image,
        TextureOptions::LINEAR,
    );
    ctx.data_mut(|d| {
        d.get_temp_mut_or_default::<Cache>(cache_id())
            .0
            .insert(key, handle.clone());
    });
    handle
}

/// Frees the textures of pictures that are no longer among `live`.
pub fn keep_only<'a>(ctx: &egui::Context, live: impl Iterator<Item = &'a Picture>) {
    let live: Vec<Key> = live.map(key).collect();
    ctx.data_mut(|d| {
        d.get_temp_mut_or_default::<Cache>(cache_id())
            .0
            .retain(|k, _| live.contains(k));
    });
}
