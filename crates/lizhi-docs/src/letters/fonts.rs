//! Finding the fonts PDFs are typeset with.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use typst::foundations::Bytes;
use typst::text::{Font, FontBook, FontInfo};
use typst::utils::LazyHash;

use super::error::LetterError;

/// Text a font must fully cover to count as a CJK font: common characters of
/// our letters plus rare name characters that GB2312-only fonts lack.
const CJK_PROBE: &str = "解除劳动合同证明通知书公司员工姓名日期年月日喆堃";

/// CJK families we prefer, best first, when several are installed (a serif
/// "Song" face is the convention for formal Chinese documents).
const PREFERRED_CJK: &[&str] = &[
    "Noto Serif CJK SC",
    "Source Han Serif SC",
    "Noto Serif SC",
    "Source Han Serif CN",
    "Songti SC",
    "SimSun",
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "Noto Sans SC",
    "WenQuanYi Zen Hei",
];

/// Latin families we prefer for English letters, best first.
const PREFERRED_LATIN: &[&str] =
    &["Noto Serif", "Source Serif 4", "Libertinus Serif", "Liberation Serif", "DejaVu Serif", "Times New Roman"];

/// The system font folders of Linux distributions.
fn system_dirs() -> Vec<PathBuf> {
    let mut dirs = vec![PathBuf::from("/usr/share/fonts"), PathBuf::from("/usr/local/share/fonts")];
    if let Some(home) = std::env::var_os("HOME") {
        dirs.push(Path::new(&home).join(".local/share/fonts"));
    }
    dirs
}

/// The fonts available for PDF rendering, scanned once.
///
/// Scanning reads every font file to learn its family and character
/// coverage, which takes a noticeable fraction of a second, so the
/// application builds one `Fonts` at start and shares it: cloning is cheap
/// (an [`Arc`]) and font data is read lazily, once, on first use.
#[derive(Clone)]
pub struct Fonts {
    inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) book: LazyHash<FontBook>,
    faces: Vec<Face>,
    files: Vec<FontFile>,
    pub(crate) cjk_family: String,
    pub(crate) latin_family: Option<String>,
}

struct Face {
    file: usize,
    index: u32,
    font: OnceLock<Option<Font>>,
}

struct FontFile {
    path: PathBuf,
    data: OnceLock<Option<Bytes>>,
}

impl std::fmt::Debug for Fonts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fonts")
            .field("faces", &self.inner.faces.len())
            .field("cjk_family", &self.inner.cjk_family)
            .field("latin_family", &self.inner.latin_family)
            .finish()
    }
}

impl Fonts {
    /// Scans the system font folders (`/usr/share/fonts`,
    /// `/usr/local/share/fonts`, `~/.local/share/fonts`) and `extra_dirs`
    /// (searched first, so configured fonts win).
    ///
    /// Fails with [`LetterError::NoCjkFont`] when no font covers Chinese
    /// text including 喆 and 堃, because every letter names a person and a
    /// missing glyph in a name makes a legal document wrong.
    pub fn discover(extra_dirs: &[PathBuf]) -> Result<Fonts, LetterError> {
        Fonts::discover_in(extra_dirs, true)
    }

    /// Like [`discover`](Fonts::discover), but the system folders are only
    /// searched when `include_system` is true: a deployment can pin the
    /// exact fonts its documents use, and tests can run without them.
    ///
    /// A configured folder that does not exist is an error
    /// ([`LetterError::FontDir`]), since it is a configuration mistake;
    /// missing system folders and unreadable font files are skipped.
    pub fn discover_in(dirs: &[PathBuf], include_system: bool) -> Result<Fonts, LetterError> {
        let mut searched = Vec::new();
        let mut paths = Vec::new();
        for dir in dirs {
            let mut found = Vec::new();
            walk(dir, 0, &mut found).map_err(|e| LetterError::FontDir { path: dir.clone(), detail: e.to_string() })?;
            searched.push(dir.clone());
            paths.extend(found);
        }
        if include_system {
            for dir in system_dirs() {
                // A system folder that does not exist is normal.
                let _ = walk(&dir, 0, &mut paths);
                searched.push(dir);
            }
        }

        let mut book = FontBook::new();
        let mut faces = Vec::new();
        let mut files = Vec::new();
        for path in paths {
            let Ok(data) = fs::read(&path) else { continue };
            let file = files.len();
            let mut any = false;
            for font in Font::iter(Bytes::new(data)) {
                book.push(font.info().clone());
                faces.push(Face { file, index: font.index(), font: OnceLock::new() });
                any = true;
            }
            if any {
                // The bytes are dropped here and read again on first use, so
                // a large font collection does not stay in memory unused.
                files.push(FontFile { path, data: OnceLock::new() });
            }
        }

        let infos: Vec<&FontInfo> = (0..faces.len()).filter_map(|i| book.info(i)).collect();
        let covers = |info: &FontInfo, probe: &str| probe.chars().all(|c| info.coverage.contains(c as u32));
        let cjk_family =
            pick_family(&infos, PREFERRED_CJK, |i| covers(i, CJK_PROBE)).ok_or(LetterError::NoCjkFont { searched })?;
        let latin_family = pick_family(&infos, PREFERRED_LATIN, |i| covers(i, "AaZz09,.;:'\"&£€"));
        Ok(Fonts { inner: Arc::new(Inner { book: LazyHash::new(book), faces, files, cjk_family, latin_family }) })
    }

    /// The family Chinese text is set in, for logs and the admin page.
    #[must_use]
    pub fn cjk_family(&self) -> &str {
        &self.inner.cjk_family
    }

    /// The family English text is set in, if a separate Latin font was
    /// found (otherwise the CJK font's Latin letters are used).
    #[must_use]
    pub fn latin_family(&self) -> Option<&str> {
        self.inner.latin_family.as_deref()
    }

    /// The number of font faces found, for logs.
    #[must_use]
    pub fn face_count(&self) -> usize {
        self.inner.faces.len()
    }

    pub(crate) fn inner(&self) -> &Inner {
        &self.inner
    }
}

impl Inner {
    /// The font at `index` in the book, read from disk on first use.
    pub(crate) fn font(&self, index: usize) -> Option<Font> {
        let face = self.faces.get(index)?;
        face.font
            .get_or_init(|| {
                let file = self.files.get(face.file)?;
                let data = file.data.get_or_init(|| fs::read(&file.path).ok().map(Bytes::new)).clone()?;
                Font::new(data, face.index)
            })
            .clone()
    }
}

/// A preferred family that passes `ok`, else the first family that does (in
/// scan order, so configured folders come first).
fn pick_family(infos: &[&FontInfo], preferred: &[&str], ok: impl Fn(&FontInfo) -> bool) -> Option<String> {
    let usable: Vec<&FontInfo> = infos.iter().copied().filter(|i| ok(i)).collect();
    preferred
        .iter()
        .find_map(|want| usable.iter().find(|i| i.family.eq_ignore_ascii_case(want)))
        .or_else(|| usable.first())
        .map(|i| i.family.clone())
}

/// Collects font files under `dir`, following links but at most 16 folders
/// deep (a link loop cannot hang discovery).
fn walk(dir: &Path, depth: usize, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut entries: Vec<PathBuf> = fs::read_dir(dir)?.filter_map(|e| e.ok().map(|e| e.path())).collect();
    // Sorted, so the same folders always give the same book and choice.
    entries.sort();
    for path in entries {
        let Ok(meta) = fs::metadata(&path) else { continue };
        if meta.is_dir() {
            if depth < 16 {
                let _ = walk(&path, depth + 1, out);
            }
        } else if meta.is_file() && is_font_file(&path) {
            out.push(path);
        }
    }
    Ok(())
}

fn is_font_file(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| ["ttf", "otf", "ttc", "otc"].iter().any(|ext| e.eq_ignore_ascii_case(ext)))
}
