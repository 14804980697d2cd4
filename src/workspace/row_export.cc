#include "workspace/row_export.h"

#include "export/export_value.h"

namespace cdp {

namespace {
constexpr size_t kFlushBytes = 1 << 20;
}  // namespace

StatusOr<RowTextFormat> ParseRowTextFormat(std::string_view format) {
  if (format == "csv") return RowTextFormat::kCsv;
  if (format == "jsonl") return RowTextFormat::kJsonl;
  return InvalidArgumentError("format: expected csv or jsonl, got '" + std::string(format) + "'");
}

RowTextWriter::RowTextWriter(RowTextFormat format, std::vector<ExportField> fields, std::ostream& out)
    : format_(format), fields_(std::move(fields)), out_(out) {
  if (format_ == RowTextFormat::kCsv) AppendCsvHeader(&buffer_, fields_);
}

Status RowTextWriter::WriteRow(const std::vector<const Column*>& columns, size_t row) {
  values_.clear();
  for (const Column* c : columns) values_.push_back(FormatExportValue(*c, row));
  if (format_ == RowTextFormat::kCsv) {
    AppendCsvRecord(&buffer_, values_);
  } else {
    AppendJsonRecord(&buffer_, fields_, values_);
  }
  return buffer_.size() >= kFlushBytes ? Drain() : Status::Ok();
}

Status RowTextWriter::Drain() {
  out_.write(buffer_.data(), static_cast<std::streamsize>(buffer_.size()));
  buffer_.clear();
  if (!out_) return UnavailableError("writing rows failed (the output stream was closed or is full)");
  return Status::Ok();
}

Status RowTextWriter::Finish() {
  CDP_RETURN_IF_ERROR(Drain());
  out_.flush();
  if (!out_) return UnavailableError("writing rows failed (the output stream was closed or is full)");
  return Status::Ok();
}

StatusOr<int64_t> StreamEntityRows(Workspace& workspace, const std::string& entity, std::string_view format,
                                   std::ostream& out, int64_t limit) {
  CDP_ASSIGN_OR_RETURN(RowTextFormat f, ParseRowTextFormat(format));
  CDP_ASSIGN_OR_RETURN(Snapshot snap, workspace.data().Current());
  if (!snap.entities.count(entity)) {
    return NotFoundError("no entity '" + entity + "' in this workspace");
  }
  CDP_ASSIGN_OR_RETURN(auto reader, workspace.data().OpenEntity(snap, entity));
  std::vector<ExportField> fields;
  for (const Field& field : reader->schema().fields()) fields.push_back(ExportField{field.name, field.type});
  RowTextWriter writer(f, std::move(fields), out);
  int64_t written = 0;
  for (size_t rg = 0; rg < reader->num_row_groups() && (limit < 0 || written < limit); ++rg) {
    CDP_ASSIGN_OR_RETURN(Table table, reader->ReadRowGroup(rg));
    std::vector<const Column*> columns;
    for (size_t c = 0; c < table.num_columns(); ++c) columns.push_back(&table.column(c));
    for (size_t r = 0; r < table.num_rows() && (limit < 0 || written < limit); ++r, ++written) {
      CDP_RETURN_IF_ERROR(writer.WriteRow(columns, r));
    }
  }
  CDP_RETURN_IF_ERROR(writer.Finish());
  return written;
}

}  // namespace cdp
