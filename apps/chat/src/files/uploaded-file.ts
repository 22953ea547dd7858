/** The part of multer's file object chatfn uses (`@types/multer` is not installed). */
export interface UploadedFileData {
  fieldname: string;
  originalname: string;
  mimetype: string;
  size: number;
  buffer: Buffer;
}
