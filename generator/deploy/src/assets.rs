//! Function code as Lambda takes it: the `bootstrap` executable, checked for the runtime
//! (right CPU, glibc no newer than provided.al2023's), zipped deterministically and keyed by
//! the zip's content hash, so an unchanged function is never uploaded twice.

use std::io::{Cursor, Write as _};

use object::Endianness;
use object::read::elf::{ElfFile64, FileHeader as _};

use stackgen_core::ledger::sha256_hex;
use stackgen_core::manifest::Architecture;

/// provided.al2023's glibc: a binary needing a newer symbol version fails at cold start.
pub const MAX_GLIBC: (u32, u32) = (2, 34);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum BinaryError {
    #[error("not a 64-bit ELF executable ({0})")]
    NotElf(String),
    #[error("built for {found}, but the function's architecture is {expected}")]
    WrongArchitecture {
        found: &'static str,
        expected: &'static str,
    },
    #[error(
        "needs GLIBC_{}.{} (symbols: {symbols}); Lambda's provided.al2023 has glibc {}.{}",
        .needed.0, .needed.1, MAX_GLIBC.0, MAX_GLIBC.1
    )]
    GlibcTooNew { needed: (u32, u32), symbols: String },
}

/// What the check learned about a binary.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BinaryInfo {
    /// The newest glibc symbol version it needs; `None` for a static (e.g. musl) binary.
    pub glibc: Option<(u32, u32)>,
}

fn architecture_name(architecture: Architecture) -> &'static str {
    match architecture {
        Architecture::X86_64 => "x86_64",
        Architecture::Arm64 => "arm64",
    }
}

/// Checks that `bytes` is an executable Lambda can run for `architecture`.
pub fn check_binary(bytes: &[u8], architecture: Architecture) -> Result<BinaryInfo, BinaryError> {
    let elf =
        ElfFile64::<Endianness>::parse(bytes).map_err(|e| BinaryError::NotElf(e.to_string()))?;
    let header = elf.elf_header();
    let endian = elf.endian();
    let found = match header.e_machine(endian) {
        object::elf::EM_X86_64 => "x86_64",
        object::elf::EM_AARCH64 => "arm64",
        _ => "another CPU",
    };
    let expected = architecture_name(architecture);
    if found != expected {
        return Err(BinaryError::WrongArchitecture { found, expected });
    }

    // The version-needs section names every glibc symbol version the binary links against.
    let sections = elf.elf_section_table();
    let mut needed: Vec<(u32, u32)> = Vec::new();
    if let Ok(Some((mut verneeds, link))) = sections.gnu_verneed(endian, bytes) {
        let strings = sections
            .strings(endian, bytes, link)
            .map_err(|e| BinaryError::NotElf(e.to_string()))?;
        while let Ok(Some((_, mut auxes))) = verneeds.next() {
            while let Ok(Some(aux)) = auxes.next() {
                if let Ok(name) = aux.name(endian, strings)
                    && let Some(version) = glibc_version(name)
                {
                    needed.push(version);
                }
            }
        }
    }
    let newest = needed.iter().copied().max();
    if let Some(newest) = newest.filter(|v| *v > MAX_GLIBC) {
        let mut too_new: Vec<String> = needed
            .iter()
            .filter(|v| **v > MAX_GLIBC)
            .map(|(a, b)| format!("GLIBC_{a}.{b}"))
            .collect();
        too_new.sort();
        too_new.dedup();
        return Err(BinaryError::GlibcTooNew {
            needed: newest,
            symbols: too_new.join(", "),
        });
    }
    Ok(BinaryInfo { glibc: newest })
}

/// `GLIBC_2.34` → (2, 34); anything else → None.
fn glibc_version(name: &[u8]) -> Option<(u32, u32)> {
    let text = std::str::from_utf8(name).ok()?.strip_prefix("GLIBC_")?;
    let mut parts = text.split('.');
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next().map_or(Some(0), |p| p.parse().ok())?;
    Some((major, minor))
}

/// A zip holding one file, `bootstrap`, mode 0755, with a fixed timestamp: the same binary
/// always gives the same bytes, hence the same hash and key.
pub fn lambda_zip(bootstrap: &[u8]) -> Vec<u8> {
    use zip::write::SimpleFileOptions;
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .compression_level(Some(6))
        .last_modified_time(zip::DateTime::default())
        .unix_permissions(0o755);
    writer
        .start_file("bootstrap", options)
        .expect("writing into memory cannot fail");
    writer
        .write_all(bootstrap)
        .expect("writing into memory cannot fail");
    writer
        .finish()
        .expect("writing into memory cannot fail")
        .into_inner()
}

/// The S3 key of a function's zip: its content hash, so equal code shares one object.
pub fn code_key(zip: &[u8]) -> String {
    format!("assets/{}.zip", sha256_hex(zip))
}

/// The S3 key of a template too large for `TemplateBody`.
pub fn template_key(template: &[u8]) -> String {
    format!("templates/{}.json", sha256_hex(template))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_zip_is_deterministic_and_holds_an_executable_bootstrap() {
        let a = lambda_zip(b"#!/bin/sh\necho hi\n");
        let b = lambda_zip(b"#!/bin/sh\necho hi\n");
        assert_eq!(a, b);
        assert_ne!(a, lambda_zip(b"other"));
        let mut archive = zip::ZipArchive::new(Cursor::new(a.clone())).unwrap();
        assert_eq!(archive.len(), 1);
        let file = archive.by_index(0).unwrap();
        assert_eq!(file.name().unwrap(), "bootstrap");
        assert_eq!(file.unix_mode().unwrap() & 0o777, 0o755);
        assert_eq!(code_key(&a), format!("assets/{}.zip", sha256_hex(&a)));
    }

    #[test]
    fn glibc_versions_parse() {
        assert_eq!(glibc_version(b"GLIBC_2.34"), Some((2, 34)));
        assert_eq!(glibc_version(b"GLIBC_2.2.5"), Some((2, 2)));
        assert_eq!(glibc_version(b"GLIBC_2"), Some((2, 0)));
        assert_eq!(glibc_version(b"GCC_3.0"), None);
        assert!((2, 35) > MAX_GLIBC && (2, 9) < MAX_GLIBC);
    }

    #[test]
    fn this_test_binary_is_checked_like_a_bootstrap() {
        // The test executable itself is a real x86_64/aarch64 glibc binary from this machine.
        let bytes = std::fs::read(std::env::current_exe().unwrap()).unwrap();
        let (mine, other) = if cfg!(target_arch = "x86_64") {
            (Architecture::X86_64, Architecture::Arm64)
        } else {
            (Architecture::Arm64, Architecture::X86_64)
        };
        match check_binary(&bytes, mine) {
            Ok(info) => assert!(info.glibc.is_some(), "a gnu build links glibc"),
            Err(BinaryError::GlibcTooNew { needed, .. }) => assert!(needed > MAX_GLIBC),
            Err(e) => panic!("{e}"),
        }
        assert!(matches!(
            check_binary(&bytes, other),
            Err(BinaryError::WrongArchitecture { .. })
        ));
        assert!(matches!(
            check_binary(b"#!/bin/sh\n", mine),
            Err(BinaryError::NotElf(_))
        ));
    }
}
