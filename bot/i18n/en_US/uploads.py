TEXTS = {
    "upload.too_large": "The file is too large (over {limit}) and was not read. Split it or export only what is needed.",
}
