/* SPDX-License-Identifier: GPL-2.0-or-later
 * app/smtp/filetype.c: what an attachment really is, from its first decoded
 * bytes (magic numbers) and its name: detected type, and the flags of
 * bf_smtp_attachment (executable, macros, disk image, double extension,
 * extension / content mismatch). */
#include "app/smtp/smtp_int.h"

#include <ctype.h>
#include <strings.h>

static bool has(const sm_file *fi, size_t off, const void *m, size_t n)
{
    return fi->head_len >= off + n && memcmp(fi->head + off, m, n) == 0;
}

static bool in_list(const char *ext, const char *const *l)
{
    for (; *l; l++)
        if (strcmp(ext, *l) == 0)
            return true;
    return false;
}

static const char *const exec_ext[] = {
    "exe", "scr", "com", "pif", "cpl", "dll", "msi", "msp", "js", "jse", "vbs", "vbe", "wsf",
    "wsh", "hta", "ps1", "psm1", "bat", "cmd", "lnk", "jar", "reg", "sct", "appx", "msix",
    "chm", "application", "gadget", "inf", "scf", "url", "xll", "library-ms", "vhd", NULL};
static const char *const image_ext[] = {"iso", "img", "vhd", "vhdx", "udf", NULL};
static const char *const macro_ext[] = {"docm", "xlsm", "pptm", "dotm", "xltm", "xlam",
                                        "ppam", "xlsb", NULL};
static const char *const doc_ext[] = {"pdf", "doc", "docx", "xls", "xlsx", "ppt", "pptx", "txt",
                                      "rtf", "jpg", "jpeg", "png", "gif", "zip", "csv", "odt",
                                      "html", "htm", "tif", "tiff", "bmp", "mp3", "mp4", NULL};

const char *sm_detect_type(const sm_file *fi, const char *ext)
{
    if (has(fi, 0, "MZ", 2))
        return "pe";
    if (has(fi, 0, "\x7f" "ELF", 4))
        return "elf";
    if (has(fi, 0, "PK\x03\x04", 4)) {
        size_t nl = fi->head_len >= 30 ? (size_t)(fi->head[26] | fi->head[27] << 8) : 0;
        const char *nm = (const char *)fi->head + 30;
        nl = BF_MIN(nl, (size_t)(fi->head_len >= 30 ? fi->head_len - 30 : 0));
        bool ooxml = false;
        if (nl >= 9 && memcmp(nm, "META-INF/", 9) == 0)
            return "jar";
        if (nl >= 6 && memcmp(nm + nl - 6, ".class", 6) == 0)
            return "jar";
        if (nl >= 5 && memcmp(nm, "word/", 5) == 0)
            return "docx";
        if (nl >= 3 && memcmp(nm, "xl/", 3) == 0)
            return "xlsx";
        if (nl >= 4 && memcmp(nm, "ppt/", 4) == 0)
            return "pptx";
        if ((nl == 19 && memcmp(nm, "[Content_Types].xml", 19) == 0) ||
            (nl >= 6 && memcmp(nm, "_rels/", 6) == 0) ||
            (nl >= 9 && memcmp(nm, "docProps/", 9) == 0))
            ooxml = true;
        if (ooxml) {
            if (!strncmp(ext, "doc", 3) || !strncmp(ext, "dot", 3))
                return "docx";
            if (!strncmp(ext, "xl", 2))
                return "xlsx";
            if (!strncmp(ext, "ppt", 3) || !strncmp(ext, "pot", 3))
                return "pptx";
            return "ooxml";
        }
        if (strcmp(ext, "jar") == 0)
            return "jar";
        return "zip";
    }
    if (fi->head_len >= 5) {
        /* %PDF may follow a little junk */
        for (size_t i = 0; i + 5 <= BF_MIN((size_t)fi->head_len, (size_t)256); i++)
            if (memcmp(fi->head + i, "%PDF-", 5) == 0)
                return "pdf";
    }
    if (has(fi, 0, "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1", 8))
        return "ole2";
    if (has(fi, 0, "{\\rt", 4))
        return "rtf";
    if (has(fi, 0, "\x4C\x00\x00\x00\x01\x14\x02\x00", 8))
        return "lnk";
    if (has(fi, 0, "Rar!\x1a\x07", 6))
        return "rar";
    if (has(fi, 0, "7z\xBC\xAF\x27\x1C", 6))
        return "7z";
    if (has(fi, 0, "\x1f\x8b", 2))
        return "gzip";
    if (fi->iso_len == 5 && memcmp(fi->iso, "CD001", 5) == 0)
        return "iso9660";
    if (fi->iso_len == 5 && (memcmp(fi->iso, "BEA01", 5) == 0 || memcmp(fi->iso, "NSR0", 4) == 0))
        return "udf";
    if (has(fi, 0, "\xFF\xD8\xFF", 3))
        return "jpeg";
    if (has(fi, 0, "\x89PNG", 4))
        return "png";
    if (has(fi, 0, "GIF8", 4))
        return "gif";
    size_t i = 0;
    while (i < fi->head_len && isspace(fi->head[i]))
        i++;
    const char *r = (const char *)fi->head + i;
    size_t rl = fi->head_len - i;
    if ((rl >= 5 && strncasecmp(r, "<html", 5) == 0) ||
        (rl >= 9 && strncasecmp(r, "<!doctype", 9) == 0) ||
        (rl >= 7 && strncasecmp(r, "<script", 7) == 0))
        return "html";
    if (!fi->head_len)
        return "unknown";
    for (size_t k = 0; k < fi->head_len; k++) {
        uint8_t c = fi->head[k];
        if (c < 0x09 || (c > 0x0d && c < 0x20 && c != 0x1b) || c == 0x7f)
            return "unknown";
    }
    return "text";
}

/* Does the detected type fit a document extension?  (true when unknown) */
static bool ext_agrees(const char *ext, const char *det)
{
    static const struct {
        const char *ext, *types;
    } map[] = {
        {"pdf", "pdf"},  {"doc", "ole2 rtf"}, {"xls", "ole2"}, {"ppt", "ole2"},
        {"docx", "docx ooxml zip"}, {"xlsx", "xlsx ooxml zip"}, {"pptx", "pptx ooxml zip"},
        {"zip", "zip docx xlsx pptx ooxml jar"}, {"jpg", "jpeg"}, {"jpeg", "jpeg"},
        {"png", "png"}, {"gif", "gif"}, {"txt", "text"}, {"csv", "text"}, {"rtf", "rtf"},
    };
    for (size_t i = 0; i < BF_ARRAY_LEN(map); i++) {
        if (strcmp(ext, map[i].ext) != 0)
            continue;
        if (strcmp(det, "unknown") == 0)
            return true;   /* cannot tell */
        size_t dl = strlen(det);
        for (const char *p = map[i].types; *p;) {
            const char *e = strchr(p, ' ');
            size_t l = e ? (size_t)(e - p) : strlen(p);
            if (l == dl && memcmp(p, det, l) == 0)
                return true;
            p += l + (e ? 1 : 0);
        }
        return false;
    }
    return true;
}

uint32_t sm_att_flags(const char *name, size_t nlen, const char *ext, const char *det)
{
    uint32_t fl = 0;
    if (!strcmp(det, "pe") || !strcmp(det, "elf") || !strcmp(det, "lnk") ||
        !strcmp(det, "jar") || in_list(ext, exec_ext))
        fl |= BF_SMTP_ATT_EXECUTABLE;
    if (!strcmp(det, "ole2") || in_list(ext, macro_ext))
        fl |= BF_SMTP_ATT_MACRO_CAPABLE;
    if (!strcmp(det, "iso9660") || !strcmp(det, "udf") || in_list(ext, image_ext))
        fl |= BF_SMTP_ATT_DISK_IMAGE;
    if (!strcmp(det, "zip") || !strcmp(det, "rar") || !strcmp(det, "7z") || !strcmp(det, "gzip"))
        fl |= BF_SMTP_ATT_ARCHIVE;
    if (!ext_agrees(ext, det))
        fl |= BF_SMTP_ATT_EXT_MISMATCH;
    /* "x.pdf.exe", "x.pdf   .exe": a document extension before an executable one */
    if (ext[0] && (in_list(ext, exec_ext) || in_list(ext, image_ext)) && nlen) {
        size_t e = nlen;
        while (e && name[e - 1] != '.')
            e--;   /* e: after the last dot */
        if (e >= 2) {
            size_t end = e - 1;
            while (end && name[end - 1] == ' ')
                end--;
            size_t st = end;
            while (st && name[st - 1] != '.' && end - st < 8)
                st--;
            if (st && name[st - 1] == '.') {
                char prev[9];
                size_t pl = end - st;
                for (size_t i = 0; i < pl && i < 8; i++)
                    prev[i] = (char)tolower((unsigned char)name[st + i]);
                prev[BF_MIN(pl, (size_t)8)] = 0;
                if (in_list(prev, doc_ext))
                    fl |= BF_SMTP_ATT_DOUBLE_EXT;
            }
        }
    }
    return fl;
}
