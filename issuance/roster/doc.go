// Package roster reads the rosters of on-site batch enrollment and writes
// the file of rejected rows.
//
// A roster is a CSV file (UTF-8 with or without a byte-order mark, or
// GB18030 as Excel in China saves it) or an XLSX workbook (first sheet, read
// row by row with xuri/excelize). The first non-blank row is the header;
// columns are found by their Chinese or English names in any order (姓名/name,
// 身份证号/id_number, 手机号/phone, 是否团员/league_member,
// 服装尺码/clothing_size and the optional 拼音/emboss_name), other columns are
// ignored. Limits guard against oversized files, zip bombs, huge row counts
// and huge cells; breaking one is a file-level error, as is a missing
// required column.
//
// The package only parses: it never validates ID numbers or phones (the
// issuance package does) and it holds no personal data beyond the rows it
// returns.
package roster
