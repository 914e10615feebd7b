TEXTS = {
    "upload.too_large": "文件太大（超过 {limit}），没有读取。请拆分或只导出需要的部分后再上传。",
}
