package issuance_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/issuance"
)

func TestEmbossName(t *testing.T) {
	cases := []struct{ name, in, want string }{
		{"two characters", "张三", "ZHANG SAN"},
		{"three characters", "张三丰", "ZHANG SANFENG"},
		{"ü as V", "吕布", "LV BU"},
		{"ü in given name", "王女", "WANG NV"},
		{"compound surname", "欧阳小明", "OUYANG XIAOMING"},
		{"surname reading 单", "单田芳", "SHAN TIANFANG"},
		{"surname reading 曾", "曾国藩", "ZENG GUOFAN"},
		{"inner space", "李 四", "LI SI"},
		{"latin name", "John Smith", "JOHN SMITH"},
		{"middle dot", "买买提·艾力", "MAIMAITI AILI"},
		{"too long is cut", "欧阳爱新觉罗德彪西呢", "OUYANG AIXINJUELUODEBIAOXI"},
		{"empty", "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := issuance.EmbossName(tc.in)
			require.Equal(t, tc.want, got)
			if got != "" {
				require.True(t, issuance.ValidEmbossName(got), got)
				require.LessOrEqual(t, len(got), issuance.MaxEmbossName)
			}
		})
	}
}

func TestValidEmbossName(t *testing.T) {
	for in, want := range map[string]bool{
		"ZHANG SAN": true, "zhang san": false, " ZHANG": false, "ZHANG ": false, "ZHANG  SAN": false,
		"": false, "ABCDEFGHIJKLMNOPQRSTUVWXYZ": true, "ABCDEFGHIJKLMNOPQRSTUVWXYZA": false, "ZHANG-SAN": false,
	} {
		t.Run(in, func(t *testing.T) { require.Equal(t, want, issuance.ValidEmbossName(in)) })
	}
}
